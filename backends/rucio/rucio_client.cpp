#include "rucio_client.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace stepq::rucio {

using nlohmann::json;
using Verdict = http::Outcome::Verdict;

namespace {

std::string field(const http::Response& r, const char* header, const char* key) {
  if (auto h = r.header(header); h && !h->empty()) return *h;
  const auto j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + with.size()))
    s.replace(p, what.size(), with);
}

}  // namespace

std::string text(const json& rule, const char* key) {
  const auto it = rule.find(key);
  return it != rule.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string exception_class(const http::Response& r) { return field(r, "exceptionclass", "ExceptionClass"); }

double parse_date(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return -1;
  return static_cast<double>(timegm(&tm));
}

std::string Client::scrub(std::string text) const {
  std::lock_guard lk(m_);
  replace_all(text, s_.password, "***");
  replace_all(text, token_, "***");
  for (const auto& t : old_tokens_) replace_all(text, t, "***");
  return text;
}

http::Request Client::request(const std::string& method, const std::string& path) const {
  http::Request r;
  r.method = method;
  r.url = s_.url + path;
  r.connect_timeout_s = s_.connect_timeout_s;
  r.total_timeout_s = s_.total_timeout_s;
  return r;
}

http::Outcome Client::explained(http::Outcome o, const http::Request& r) const {
  if (o.verdict == Verdict::ok) return o;
  if (o.response.status >= 400) {
    // Rucio's own words: its exception class says what happened (DuplicateRule, RuleNotFound…).
    const std::string cls = exception_class(o.response);
    std::string msg = field(o.response, "exceptionmessage", "ExceptionMessage");
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
    if (!cls.empty() || !msg.empty())
      o.error = r.method + " " + http::redacted(r.url) + ": HTTP " + std::to_string(o.response.status) + ": " + cls +
                (cls.empty() || msg.empty() ? "" : ": ") + msg;
  }
  o.error = scrub(o.error);
  return o;
}

std::string Client::token(http::Outcome& o) {
  std::unique_lock lk(m_);  // one authentication at a time: the others wait for its token
  if (!token_.empty() && std::chrono::steady_clock::now() < renew_at_) return token_;
  http::Request a;
  a.url = (s_.auth_url.empty() ? s_.url : s_.auth_url) + "/auth/userpass";
  a.headers = {{"X-Rucio-Account", s_.account},
               {"X-Rucio-Username", s_.username},
               {"X-Rucio-Password", s_.password},
               {"Accept", "application/octet-stream"}};
  a.connect_timeout_s = s_.connect_timeout_s;
  a.total_timeout_s = s_.total_timeout_s;
  o = http::call(a);
  const auto got = o.response.header("x-rucio-auth-token");
  if (o.verdict == Verdict::ok && (!got || got->empty())) {
    o.verdict = Verdict::fail;
    o.error = "GET " + http::redacted(a.url) + ": HTTP " + std::to_string(o.response.status) + " without a token";
  }
  if (o.verdict != Verdict::ok) {
    lk.unlock();  // explained() takes the lock to scrub
    o = explained(std::move(o), a);
    o.error = "rucio authentication: " + o.error;
    return "";
  }
  if (!token_.empty()) old_tokens_.push_back(token_);
  if (old_tokens_.size() > 8) old_tokens_.erase(old_tokens_.begin());
  token_ = *got;
  // Its lifetime on the server's own clock (Date), so a skewed local clock does not matter;
  // Rucio's default is an hour. Renewed a fifth of it (at most a minute) early.
  double lifetime = 3600;
  const double expires = parse_date(o.response.header("x-rucio-auth-token-expires").value_or(""));
  double now = parse_date(o.response.header("date").value_or(""));
  if (now < 0) now = static_cast<double>(std::time(nullptr));
  if (expires >= 0) lifetime = std::max(0.0, expires - now);
  const double margin = std::min(60.0, lifetime / 5);
  renew_at_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                     std::chrono::duration<double>(lifetime - margin));
  return token_;
}

http::Outcome Client::call(http::Request r) {
  for (int round = 0;; ++round) {
    http::Outcome o;
    const std::string t = token(o);
    if (t.empty()) return o;
    http::Request signed_r = r;
    signed_r.headers.emplace_back("X-Rucio-Auth-Token", t);
    o = http::call(signed_r);
    if (o.response.status == 401 && round == 0) {
      std::lock_guard lk(m_);
      if (token_ == t) renew_at_ = {};  // another thread may have renewed it already
      continue;
    }
    return explained(std::move(o), r);
  }
}

http::Outcome Client::rules_on(const Did& did, const std::string& rse_expression, std::vector<json>& out) {
  out.clear();
  http::Request r = request(
      "GET", "/rules/?scope=" + http::url_encode(did.scope) + "&name=" + http::url_encode(did.name) +
                 "&account=" + http::url_encode(s_.account) + "&rse_expression=" + http::url_encode(rse_expression));
  r.headers = {{"Accept", "application/x-json-stream"}};
  http::Outcome o = call(r);
  if (o.response.status == 404) {  // no rule (or no such DID): nothing to list
    o.verdict = Verdict::ok;
    o.error.clear();
    return o;
  }
  if (o.verdict != Verdict::ok) return o;
  std::istringstream lines(o.response.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) {
      o.verdict = Verdict::retry;
      o.error = "GET " + http::redacted(r.url) + ": a line that is not a JSON object";
      return o;
    }
    // The server filters; checked again, as a rule of another key must never be taken for ours.
    if (text(j, "scope") == did.scope && text(j, "name") == did.name && text(j, "rse_expression") == rse_expression &&
        text(j, "account") == s_.account)
      out.push_back(std::move(j));
  }
  return o;
}

http::Outcome Client::create_rule(const json& body, std::string& id) {
  http::Request r = request("POST", "/rules/");
  r.headers = {{"Accept", "application/json"}};
  http::json_body(r, body.dump());
  http::Outcome o = call(r);
  if (o.verdict != Verdict::ok) return o;
  const auto j = json::parse(o.response.body, nullptr, false);
  if (j.is_array() && !j.empty() && j[0].is_string()) {
    id = j[0].get<std::string>();
    return o;
  }
  o.verdict = Verdict::fail;
  o.error = "POST " + http::redacted(r.url) + ": the reply holds no rule id";
  return o;
}

http::Outcome Client::rule(const std::string& id, json& out) {
  http::Request r = request("GET", "/rules/" + http::url_encode(id));
  r.headers = {{"Accept", "application/json"}};
  http::Outcome o = call(r);
  if (o.verdict != Verdict::ok) return o;
  out = json::parse(o.response.body, nullptr, false);
  if (!out.is_object()) {
    o.verdict = Verdict::retry;
    o.error = "GET " + http::redacted(r.url) + ": the reply is not a rule";
  }
  return o;
}

http::Outcome Client::set_lifetime(const std::string& id, long lifetime_s) {
  http::Request r = request("PUT", "/rules/" + http::url_encode(id));
  http::json_body(r, json{{"options", {{"lifetime", lifetime_s}}}}.dump());
  return call(r);
}

http::Outcome Client::remove(const std::string& id) {
  http::Request r = request("DELETE", "/rules/" + http::url_encode(id));
  http::json_body(r, json{{"purge_replicas", false}}.dump());
  return call(r);
}

}  // namespace stepq::rucio
