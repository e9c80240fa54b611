// The calls of CANFAR's Skaha session API that stepq makes (research/platform-apis.md §1): create,
// list, read, logs, delete, and the images on offer. Each is one HTTP call through http::call,
// with `Authorization: Bearer <token>`; the token goes in no URL and no error text.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/http/client.hpp"

namespace stepq::skaha {

struct Settings {
  std::string url;    // the service base, e.g. https://ws-uv.canfar.net/skaha
  std::string token;  // bearer token
  double connect_timeout_s = 10, total_timeout_s = 30;
};

// What POST /v1/session takes (§1.4). Values must hold no '"' or newline (the server pastes them
// into YAML) and env values no '='; the adapter refuses such settings when the file is loaded.
struct Launch {
  std::string name, image, type = "headless";
  std::optional<double> cores, ram;
  std::string cmd, args;
  std::vector<std::pair<std::string, std::string>> env;
};

// The fields of a session object (§1.5) that stepq reads.
struct Session {
  std::string id, name, status, type;
};

// A status of §1.6, old and new vocabulary alike.
enum class State { pending, running, completed, failed, terminating, unknown };
State classify(const std::string& status);
// Completed, Failed or Terminating: the session will not run (again).
inline bool finished(State s) { return s == State::completed || s == State::failed || s == State::terminating; }

class Client {
 public:
  explicit Client(Settings s) : s_(std::move(s)) {}

  // POST /v1/session: `id` is the reply's text, trimmed.
  http::Outcome create(const Launch& l, std::string& id) const;
  // GET /v1/session: the caller's sessions.
  http::Outcome list(std::vector<Session>& out) const;
  // GET /v1/session/{id}; 404 when unknown or expired.
  http::Outcome get(const std::string& id, Session& out) const;
  // GET /v1/session/{id}?view=logs: the container's log.
  http::Outcome logs(const std::string& id, std::string& out) const;
  // DELETE /v1/session/{id}: 200 also for an unknown id.
  http::Outcome remove(const std::string& id) const;
  // GET /v1/image?type=T: the ids of the images offered for that type.
  http::Outcome images(const std::string& type, std::vector<std::string>& ids) const;

  const Settings& settings() const { return s_; }

 private:
  http::Request request(const std::string& method, const std::string& path) const;
  Settings s_;
};

}  // namespace stepq::skaha
