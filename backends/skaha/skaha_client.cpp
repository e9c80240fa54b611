#include "skaha_client.hpp"

#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace stepq::skaha {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string str(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Session session_of(const nlohmann::json& j) { return {str(j, "id"), str(j, "name"), str(j, "status"), str(j, "type")}; }

// A 2xx whose body is not what the API promises (a proxy's page, a cut-off reply): asking again
// may get a proper one, so it counts as "no answer".
http::Outcome unreadable(http::Outcome o, const std::string& what, const std::string& expected) {
  o.verdict = http::Outcome::Verdict::retry;
  o.error = what + ": HTTP " + std::to_string(o.response.status) + " but not " + expected;
  return o;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

State classify(const std::string& status) {
  const std::string s = lower(trim(status));
  if (s == "pending") return State::pending;
  if (s == "running") return State::running;
  if (s == "completed" || s == "succeeded") return State::completed;
  // Before 2025-09 a failed Job read "Failed (DeadlineExceeded)"; the OpenAPI file says "Error".
  if (s.rfind("failed", 0) == 0 || s.rfind("error", 0) == 0) return State::failed;
  if (s == "terminating") return State::terminating;
  return State::unknown;
}

http::Request Client::request(const std::string& method, const std::string& path) const {
  http::Request r;
  r.method = method;
  r.url = s_.url + path;
  r.headers.emplace_back("Authorization", "Bearer " + s_.token);
  r.connect_timeout_s = s_.connect_timeout_s;
  r.total_timeout_s = s_.total_timeout_s;
  return r;
}

http::Outcome Client::create(const Launch& l, std::string& id) const {
  // Query parameters, as the OpenAPI file declares them and the Python client sends them.
  std::string q =
      "?name=" + http::url_encode(l.name) + "&image=" + http::url_encode(l.image) + "&type=" + http::url_encode(l.type);
  if (l.cores) q += "&cores=" + number(*l.cores);
  if (l.ram) q += "&ram=" + number(*l.ram);
  if (!l.cmd.empty()) q += "&cmd=" + http::url_encode(l.cmd);
  if (!l.args.empty()) q += "&args=" + http::url_encode(l.args);
  for (const auto& [k, v] : l.env) q += "&env=" + http::url_encode(k + "=" + v);
  http::Outcome o = http::call(request("POST", "/v1/session" + q));
  if (o.verdict != http::Outcome::Verdict::ok) return o;
  id = trim(o.response.body);
  if (id.empty() || id.find_first_of(" \t\r\n<{") != std::string::npos)
    return unreadable(std::move(o), "POST " + http::redacted(s_.url) + "/v1/session", "a session id");
  return o;
}

http::Outcome Client::list(std::vector<Session>& out) const {
  http::Outcome o = http::call(request("GET", "/v1/session"));
  if (o.verdict != http::Outcome::Verdict::ok) return o;
  const auto j = nlohmann::json::parse(o.response.body, nullptr, false);
  if (!j.is_array()) return unreadable(std::move(o), "GET " + http::redacted(s_.url) + "/v1/session", "a JSON array");
  out.clear();
  for (const auto& e : j)
    if (e.is_object()) out.push_back(session_of(e));
  return o;
}

http::Outcome Client::get(const std::string& id, Session& out) const {
  const std::string path = "/v1/session/" + http::url_encode(id);
  http::Outcome o = http::call(request("GET", path));
  if (o.verdict != http::Outcome::Verdict::ok) return o;
  const auto j = nlohmann::json::parse(o.response.body, nullptr, false);
  if (!j.is_object()) return unreadable(std::move(o), "GET " + http::redacted(s_.url) + path, "a JSON object");
  out = session_of(j);
  return o;
}

http::Outcome Client::logs(const std::string& id, std::string& out) const {
  http::Outcome o = http::call(request("GET", "/v1/session/" + http::url_encode(id) + "?view=logs"));
  if (o.verdict == http::Outcome::Verdict::ok) out = o.response.body;
  return o;
}

http::Outcome Client::remove(const std::string& id) const {
  return http::call(request("DELETE", "/v1/session/" + http::url_encode(id)));
}

http::Outcome Client::images(const std::string& type, std::vector<std::string>& ids) const {
  http::Outcome o = http::call(request("GET", "/v1/image?type=" + http::url_encode(type)));
  if (o.verdict != http::Outcome::Verdict::ok) return o;
  const auto j = nlohmann::json::parse(o.response.body, nullptr, false);
  if (!j.is_array()) return unreadable(std::move(o), "GET " + http::redacted(s_.url) + "/v1/image", "a JSON array");
  ids.clear();
  for (const auto& e : j)
    if (e.is_object()) ids.push_back(str(e, "id"));
  return o;
}

}  // namespace stepq::skaha
