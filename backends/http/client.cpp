#include "client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

namespace stepq::http {

namespace {

std::size_t on_body(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Header lines of every response curl sees (redirects, 100 Continue): a status line starts a new
// response, so only the last one's headers are kept.
std::size_t on_header(char* p, std::size_t size, std::size_t n, void* user) {
  auto* h = static_cast<Fields*>(user);
  const std::string line(p, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    h->clear();
  } else if (const auto colon = line.find(':'); colon != std::string::npos) {
    h->emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return size * n;
}

// What the server said, for a step's reason: a JSON body's message (Skaha, Rucio and libpod put it
// under one of these keys; a registry in errors[0]), else its text, cut short.
std::string server_message(const std::string& body) {
  std::string text = trim(body);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"message", "ExceptionMessage", "cause", "error", "detail"})
      if (j.contains(key) && j[key].is_string()) {
        text = j[key].get<std::string>();
        break;
      }
    // OCI distribution: {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "…"}]}
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() && j["errors"][0].is_object()) {
      const auto& e = j["errors"][0];
      text = e.value("code", "") +
             (e.contains("message") && e["message"].is_string() ? ": " + e["message"].get<std::string>() : "");
    }
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
std::optional<double> retry_after(const Response& r) {
  const auto v = r.header("retry-after");
  if (!v) return std::nullopt;
  if (!v->empty() && std::all_of(v->begin(), v->end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::stod(*v);
  const std::time_t at = curl_getdate(v->c_str(), nullptr);
  if (at < 0) return std::nullopt;
  return std::max(0.0, std::difftime(at, std::time(nullptr)));
}

}  // namespace

std::string url_encode(const std::string& s) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Request& json_body(Request& r, std::string json) {
  r.body = std::move(json);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Request& form_body(Request& r, const Fields& fields) {
  r.body.clear();
  for (const auto& [k, v] : fields) r.body += (r.body.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return r;
}

std::optional<std::string> Response::header(const std::string& name) const {
  const std::string n = lower(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return std::nullopt;
}

std::string redacted(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  const auto scheme = u.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = u.find('@', start);
  if (at != std::string::npos && at < u.find('/', start)) u.erase(start, at + 1 - start);
  return u;
}

Outcome call(const Request& r) {
  init_once();
  Outcome o;
  const std::string what = r.method + " " + redacted(r.url) + (r.unix_socket.empty() ? "" : " via " + r.unix_socket);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);

  if (!curl) {
    o.verdict = Outcome::Verdict::retry;
    o.error = what + ": could not start a request (out of memory?)";
    return o;
  }
  CURL* c = curl.get();
  char err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& [k, v] : r.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  // No "Expect: 100-continue" round trip for larger bodies: the APIs here answer at once.
  list = curl_slist_append(list, "Expect:");
  const std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(list, &curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (!r.unix_socket.empty()) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(r.connect_timeout_s * 1000)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(r.total_timeout_s * 1000)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // many threads: no SIGALRM timeouts
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // an API's redirect is an answer, not a detour
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &o.response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &o.response.headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    // No answer: the server may be restarting or the network gone for a moment. libcurl's own
    // text names the host and port, never a header.
    o.verdict = Outcome::Verdict::retry;
    o.error = what + ": " + (rc == CURLE_OPERATION_TIMEDOUT ? "timed out (" : "no answer (") +
              (*err ? err : curl_easy_strerror(rc)) + ")";
    return o;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o.response.status);
  const long s = o.response.status;
  if (s < 400) return o;
  const std::string said = server_message(o.response.body);
  o.error = what + ": HTTP " + std::to_string(s) + (said.empty() ? "" : ": " + said);
  if (s >= 500 || s == 429) {
    o.verdict = Outcome::Verdict::retry;
    o.retry_after_s = retry_after(o.response);
  } else {
    o.verdict = Outcome::Verdict::fail;
  }
  return o;
}

OpResult as_op_result(const Outcome& o) {
  if (o.verdict == Outcome::Verdict::ok) return {};
  if (o.verdict == Outcome::Verdict::retry && o.retry_after_s)
    return {true, false, o.error, std::max(*o.retry_after_s, 0.001)};  // WAITING, no attempt spent
  return {false, false, o.error, 0, o.verdict == Outcome::Verdict::fail};
}

}  // namespace stepq::http
