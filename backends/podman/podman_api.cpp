#include "podman_api.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

namespace stepq::podman {

namespace {

using nlohmann::json;

http::Request request(const Connection& c, const std::string& method, const std::string& path) {
  http::Request r;
  r.method = method;
  r.url = "http://podman/v4.0.0/libpod" + path;  // over a unix socket the host is only the Host header
  r.unix_socket = c.socket;
  r.connect_timeout_s = c.connect_timeout_s;
  r.total_timeout_s = c.total_timeout_s;
  return r;
}

std::string path_name(const std::string& name) { return http::url_encode(name); }

}  // namespace

http::Outcome pull(const Connection& c, const std::string& reference, const PullOptions& o) {
  http::Request r = request(c, "POST",
                            "/images/pull?reference=" + http::url_encode(reference) + "&policy=" + o.policy +
                                "&tlsVerify=" + (o.tls_verify ? "true" : "false") + "&quiet=true");
  r.total_timeout_s = c.pull_timeout_s;
  if (!o.registry_auth.empty()) r.headers.emplace_back("X-Registry-Auth", o.registry_auth);
  http::Outcome out = http::call(r);
  if (out.verdict != http::Outcome::Verdict::ok) return out;
  // 200 is sent before the pull starts; the last JSON object of the stream says how it ended.
  std::istringstream lines(out.response.body);
  std::string line, error, id;
  while (std::getline(lines, line)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("error") && j["error"].is_string()) error = j["error"].get<std::string>();
    if (j.contains("id") && j["id"].is_string()) id = j["id"].get<std::string>();
  }
  if (!error.empty() || id.empty()) {
    out.verdict = http::Outcome::Verdict::fail;
    out.error = "pull of " + reference + " failed: " + (error.empty() ? "the stream ended without an image" : error);
    if (out.error.size() > 400) out.error = out.error.substr(0, 400) + "…";
  }
  return out;
}

Created create(const Connection& c, const CreateSpec& s) {
  json body = {{"name", s.name}, {"image", s.image}};
  if (!s.command.empty()) body["command"] = s.command;
  json env = json::object(), labels = json::object(), mounts = json::array();
  for (const auto& [k, v] : s.env) env[k] = v;
  for (const auto& [k, v] : s.labels) labels[k] = v;
  for (const Mount& m : s.mounts)
    mounts.push_back(
        {{"destination", m.destination}, {"type", "bind"}, {"source", m.source}, {"options", {"rbind", "rw"}}});
  body["env"] = env;
  body["labels"] = labels;
  body["mounts"] = mounts;
  http::Request r = request(c, "POST", "/containers/create");
  http::json_body(r, body.dump());
  Created out{http::call(r)};
  // Names are unique per engine; libpod answers a taken name with 500 (the swagger's 409 too).
  const long st = out.outcome.response.status;
  if ((st == 500 || st == 409) && out.outcome.response.body.find("already in use") != std::string::npos) {
    out.exists = true;
    out.outcome.verdict = http::Outcome::Verdict::ok;
    out.outcome.error.clear();
  } else if (st == 500 && out.outcome.response.body.find("image not known") != std::string::npos) {
    // Asking again will not pull it: this is a missing image step, not a passing fault.
    out.outcome.verdict = http::Outcome::Verdict::fail;
    out.outcome.error = "image " + s.image +
                        " is not on the Podman host (give the template an image step on the "
                        "podman adapter before its launch)";
  }
  return out;
}

std::optional<State> inspect(const Connection& c, const std::string& name, http::Outcome& out) {
  out = http::call(request(c, "GET", "/containers/" + path_name(name) + "/json"));
  if (out.response.status == 404) {
    out.verdict = http::Outcome::Verdict::ok;
    out.error.clear();
    return std::nullopt;
  }
  if (out.verdict != http::Outcome::Verdict::ok) return std::nullopt;
  const json j = json::parse(out.response.body, nullptr, false);
  if (!j.is_object() || !j.contains("State") || !j["State"].is_object()) {
    out.verdict = http::Outcome::Verdict::retry;
    out.error = "inspect of container " + name + ": an answer without State";
    return std::nullopt;
  }
  const json& s = j["State"];
  State st;
  st.status = s.value("Status", "");
  st.exit_code = s.value("ExitCode", 0);
  st.error = s.value("Error", "");
  return st;
}

http::Outcome start(const Connection& c, const std::string& name) {
  return http::call(request(c, "POST", "/containers/" + path_name(name) + "/start"));  // 304 counts as ok
}

http::Outcome stop(const Connection& c, const std::string& name, int timeout_s) {
  http::Request r = request(c, "POST", "/containers/" + path_name(name) + "/stop?timeout=" + std::to_string(timeout_s));
  r.total_timeout_s = c.total_timeout_s + timeout_s;  // the service waits that long before SIGKILL
  http::Outcome out = http::call(r);
  if (out.response.status == 404) out.verdict = http::Outcome::Verdict::ok, out.error.clear();
  return out;
}

http::Outcome remove(const Connection& c, const std::string& name) {
  http::Outcome out = http::call(request(c, "DELETE", "/containers/" + path_name(name) + "?force=true"));
  if (out.response.status == 404) out.verdict = http::Outcome::Verdict::ok, out.error.clear();
  return out;
}

std::string log_tail(const Connection& c, const std::string& name, std::size_t bytes) {
  const http::Outcome out =
      http::call(request(c, "GET", "/containers/" + path_name(name) + "/logs?stdout=true&stderr=true&tail=40"));
  if (out.verdict != http::Outcome::Verdict::ok) return "";
  // Without a terminal the stream is multiplexed: frames of [stream, 0, 0, 0, size (4 bytes, big-endian)].
  const std::string& b = out.response.body;
  std::string text;
  std::size_t i = 0;
  while (i + 8 <= b.size()) {
    const auto u = [&](std::size_t k) { return static_cast<std::size_t>(static_cast<unsigned char>(b[i + k])); };
    if (u(0) > 2 || u(1) || u(2) || u(3)) return b.size() > bytes ? b.substr(b.size() - bytes) : b;  // not framed
    const std::size_t n = (u(4) << 24) | (u(5) << 16) | (u(6) << 8) | u(7);
    text += b.substr(i + 8, n);
    i += 8 + n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace stepq::podman
