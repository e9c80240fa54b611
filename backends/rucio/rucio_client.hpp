// The calls of Rucio's REST API that stepq makes (research/platform-apis.md §4): userpass token
// auth, and replication rules — list on a DID, create, read, set the lifetime, delete.
//
// One Client per adapter, shared by every worker thread: the token is cached under a mutex,
// renewed shortly before X-Rucio-Auth-Token-Expires and once more when a call answers 401 (a
// server may end a token early). The password goes only to /auth/userpass and the token only in
// X-Rucio-Auth-Token; Rucio echoes messages in its ExceptionMessage header and body, so every
// error text is scrubbed of both before it becomes a step's reason.
#pragma once
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/http/client.hpp"

namespace stepq::rucio {

struct Settings {
  std::string url;       // the Rucio server, without trailing '/'
  std::string auth_url;  // the auth server (Rucio may run one apart); "" = url
  std::string account, username, password;
  double connect_timeout_s = 10, total_timeout_s = 30;
};

// A data identifier, "scope:name".
struct Did {
  std::string scope, name;
  std::string str() const { return scope + ":" + name; }
};

class Client {
 public:
  explicit Client(Settings s) : s_(std::move(s)) {}

  // GET /rules/?scope=&name=&account=&rse_expression= (JSON lines): this account's rules on `did`.
  http::Outcome rules_on(const Did& did, const std::string& rse_expression, std::vector<nlohmann::json>& out);
  // POST /rules/ with `body` (§4.3): 201 and ["<id>"].
  http::Outcome create_rule(const nlohmann::json& body, std::string& id);
  // GET /rules/{id}.
  http::Outcome rule(const std::string& id, nlohmann::json& out);
  // PUT /rules/{id} {"options": {"lifetime": N}}: expires_at becomes now + N.
  http::Outcome set_lifetime(const std::string& id, long lifetime_s);
  // DELETE /rules/{id} {"purge_replicas": false}.
  http::Outcome remove(const std::string& id);

  // `text` with the password and every token this client holds or held replaced by "***".
  std::string scrub(std::string text) const;
  const Settings& settings() const { return s_; }

 private:
  // `r` with the token; a 401 renews the token and sends it once more.
  http::Outcome call(http::Request r);
  // The cached token, or a new one; "" with `o` not ok when authentication failed.
  std::string token(http::Outcome& o);
  // A non-ok outcome's text from Rucio's ExceptionClass / ExceptionMessage, scrubbed.
  http::Outcome explained(http::Outcome o, const http::Request& r) const;
  http::Request request(const std::string& method, const std::string& path) const;

  Settings s_;
  mutable std::mutex m_;
  std::string token_;
  std::vector<std::string> old_tokens_;  // kept for scrub(): a late error may still quote one
  std::chrono::steady_clock::time_point renew_at_{};
};

// A string field of a rule, "" when absent or not a string (Rucio sends null for unset ones).
std::string text(const nlohmann::json& rule, const char* key);
// The Rucio error class of an answer (ExceptionClass header, else its JSON body), or "".
std::string exception_class(const http::Response& r);
// Rucio's date format, "Tue, 05 Mar 2024 12:00:00 UTC" (or an HTTP Date), as seconds since the
// epoch; < 0 when it cannot be read.
double parse_date(const std::string& s);

}  // namespace stepq::rucio
