// The platform adapters' HTTP client (backends/http/client.hpp) against a real HTTP server on
// 127.0.0.1 and on a unix socket (tests/http/fault_server.py, started here): what is sent, and
// the one verdict every adapter relies on — ok, retry (no answer, 5xx, 429, with Retry-After) or
// fail (other 4xx, with the server's words) — and that no secret reaches an error text.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "backends/http/client.hpp"
#include "http/fault_server.hpp"
#include "live/processes.hpp"

using namespace stepq;
using namespace stepq::test;
using Verdict = http::Outcome::Verdict;

namespace {

const std::string kSecret = "sEcReT-t0ken-5150";

// A port nothing listens on: a server started and stopped.
std::string closed_base() {
  FaultServer s;
  const std::string b = s.base;
  s.proc.reset();
  return b;
}

}  // namespace

TEST_CASE("http: what is sent arrives: method, headers, a JSON body and a form body", "[http]") {
  FaultServer s;
  http::Request r = s.get("/echo?x=1");
  r.method = "POST";
  r.headers.emplace_back("Authorization", "Bearer " + kSecret);
  http::json_body(r, R"({"name": "session-7", "cores": 2})");
  http::Outcome o = http::call(r);
  REQUIRE(o.verdict == Verdict::ok);
  CHECK(o.error.empty());
  CHECK(o.response.status == 200);
  CHECK(o.response.header("Content-Type") == std::optional<std::string>("application/json"));
  auto j = nlohmann::json::parse(o.response.body);
  CHECK(j["method"] == "POST");
  CHECK(j["path"] == "/echo?x=1");
  CHECK(j["headers"]["authorization"] == "Bearer " + kSecret);
  CHECK(j["headers"]["content-type"] == "application/json");
  CHECK(nlohmann::json::parse(j["body"].get<std::string>())["cores"] == 2);

  http::Request f = s.get("/echo");
  f.method = "POST";
  http::form_body(f, {{"username", "ann"}, {"password", "a b&c=d/é"}});
  j = nlohmann::json::parse(http::call(f).response.body);
  CHECK(j["headers"]["content-type"] == "application/x-www-form-urlencoded");
  CHECK(j["body"] == "username=ann&password=a%20b%26c%3Dd%2F%C3%A9");

  http::Request d = s.get("/echo");
  d.method = "DELETE";
  CHECK(nlohmann::json::parse(http::call(d).response.body)["method"] == "DELETE");
  http::Request h = s.get("/echo");
  h.method = "HEAD";
  const auto head = http::call(h);
  CHECK(head.verdict == Verdict::ok);
  CHECK(head.response.body.empty());
}

TEST_CASE("http: 5xx and 429 are retried, with the server's Retry-After, and other 4xx fail with its message",
          "[http]") {
  FaultServer s;
  for (int code : {500, 502, 503, 504}) {
    INFO(code);
    const auto o = http::call(s.get("/status/" + std::to_string(code) + "?message=busy"));
    CHECK(o.verdict == Verdict::retry);
    CHECK(o.response.status == code);
    CHECK_FALSE(o.retry_after_s);
    CHECK_THAT(o.error, Catch::Contains("HTTP " + std::to_string(code)) && Catch::Contains("busy"));
    const OpResult r = http::as_op_result(o);
    CHECK_FALSE(r.ok);  // an attempt spent: the kind's retry policy decides
  }
  const auto later = http::call(s.get("/status/503?message=maintenance&retry_after=7"));
  CHECK(later.verdict == Verdict::retry);
  REQUIRE(later.retry_after_s);
  CHECK(*later.retry_after_s == 7);
  const OpResult wait = http::as_op_result(later);
  CHECK(wait.ok);  // WAITING for what the server asked, no attempt spent
  CHECK_FALSE(wait.ready);
  CHECK(wait.again_s == 7);
  const auto slow_down = http::call(s.get("/status/429?message=slow%20down&retry_after=2"));
  CHECK(slow_down.verdict == Verdict::retry);
  CHECK(slow_down.retry_after_s == std::optional<double>(2));

  for (int code : {400, 401, 403, 404, 409}) {
    INFO(code);
    const auto o = http::call(s.get("/status/" + std::to_string(code) + "?message=no%20such%20image"));
    CHECK(o.verdict == Verdict::fail);
    CHECK_THAT(o.error, Catch::EndsWith("HTTP " + std::to_string(code) + ": no such image"));
    CHECK_FALSE(http::as_op_result(o).ok);
  }
  // A JSON error body (Skaha, Rucio, libpod): its message, not the JSON.
  const auto j = http::call(s.get("/status/400?json=1&message=session%20limit%20reached"));
  CHECK_THAT(j.error, Catch::EndsWith("HTTP 400: session limit reached"));
  CHECK_THAT(j.error, Catch::StartsWith("GET http://127.0.0.1:"));
}

TEST_CASE("http: no answer is a retry that names the URL: refused, and past the total timeout", "[http]") {
  const std::string closed = closed_base();
  http::Request r;
  r.url = closed + "/v1/session";
  const auto o = http::call(r);
  CHECK(o.verdict == Verdict::retry);
  CHECK(o.response.status == 0);
  CHECK_THAT(o.error, Catch::StartsWith("GET " + closed + "/v1/session: no answer"));

  FaultServer s;
  http::Request slow = s.get("/slow?s=3");
  slow.total_timeout_s = 0.5;
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = http::call(slow);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(t.verdict == Verdict::retry);
  CHECK_THAT(t.error, Catch::Contains("timed out"));
  CHECK(took < 2);
  // A server that answers in time after failing: the retry succeeds.
  CHECK(http::call(s.get("/flaky/a?fail=1")).verdict == Verdict::retry);
  const auto second = http::call(s.get("/flaky/a?fail=1"));
  CHECK(second.verdict == Verdict::ok);
  CHECK(second.response.body == "ok after 1");
}

TEST_CASE("http: a unix socket carries the same requests (as Podman's API listens)", "[http]") {
  FaultServer s(true);
  http::Request r = s.get("/echo");
  r.method = "POST";
  http::json_body(r, R"({"image": "busybox"})");
  const auto o = http::call(r);
  REQUIRE(o.verdict == Verdict::ok);
  const auto j = nlohmann::json::parse(o.response.body);
  CHECK(j["headers"]["host"] == "podman");
  CHECK(j["body"] == R"({"image": "busybox"})");
  const auto missing = http::call(s.get("/status/404?message=no%20such%20container"));
  CHECK(missing.verdict == Verdict::fail);
  CHECK_THAT(missing.error, Catch::Contains("via " + s.socket) && Catch::EndsWith("no such container"));
  http::Request gone = s.get("/echo");
  gone.unix_socket = s.dir / "nothing.sock";
  CHECK(http::call(gone).verdict == Verdict::retry);
}

TEST_CASE("http: secrets in headers, bodies, user-info and queries never reach an error text", "[http]") {
  FaultServer s;
  const std::string closed = closed_base();
  for (const std::string& base : {s.base, closed}) {
    for (const std::string path : {"/status/401", "/status/503", "/slow?s=2"}) {
      http::Request r = s.get(path);
      r.url = base + path + (path.find('?') == std::string::npos ? "?" : "&") + "token=" + kSecret;
      r.url.insert(r.url.find("//") + 2, "user:" + kSecret + "@");
      r.headers.emplace_back("X-Rucio-Auth-Token", kSecret);
      r.method = "POST";
      http::form_body(r, {{"password", kSecret}});
      r.total_timeout_s = 0.5;
      const auto o = http::call(r);
      INFO(o.error);
      CHECK(o.verdict != Verdict::ok);
      CHECK(o.error.find(kSecret) == std::string::npos);
      CHECK(http::as_op_result(o).reason.find(kSecret) == std::string::npos);
    }
  }
  CHECK(http::redacted("https://ann:pw@rucio.example.org:443/auth/userpass?x=1#f") ==
        "https://rucio.example.org:443/auth/userpass");
  CHECK(http::redacted("http://h/p@q") == "http://h/p@q");  // an @ in the path is not user-info
}
