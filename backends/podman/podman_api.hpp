// The libpod REST API (v4) calls the podman adapter makes, over Podman's unix socket (issue 15,
// item 3). Sources of every rule here: research/platform-apis.md §2.
//
// Each call returns an http::Outcome (backends/http/client.hpp) with Podman's own error message;
// what a call means for a step is podman_adapter.cpp's business. Two answers are not what their
// status says: a pull's failure arrives inside its 200 stream (pull() reads the stream to its end
// and turns a final {"error": …} into a `fail`), and a create whose name is taken answers 500
// "… already in use …" (create() reports it as `exists`).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "backends/http/client.hpp"

namespace stepq::podman {

struct Connection {
  std::string socket;  // the service's unix socket (podman system service unix://…)
  double connect_timeout_s = 5, total_timeout_s = 60;
  double pull_timeout_s = 900;  // a pull moves the image: minutes, not seconds
};

struct PullOptions {
  std::string policy = "missing";  // missing: no second download, so a re-run costs nothing
  bool tls_verify = true;
  std::string registry_auth;  // X-Registry-Auth (base64 JSON), or empty
};
http::Outcome pull(const Connection& c, const std::string& reference, const PullOptions& o);

struct Mount {
  std::string source, destination;
};
struct CreateSpec {
  std::string name, image;
  std::vector<std::string> command;  // empty: the image's CMD
  std::vector<std::pair<std::string, std::string>> env, labels;
  std::vector<Mount> mounts;  // bind mounts, read-write
};
struct Created {
  http::Outcome outcome;
  bool exists = false;  // the name was taken: the container is there already
};
Created create(const Connection& c, const CreateSpec& s);

// State.Status and ExitCode of a container; nullopt with an ok outcome: there is no such container.
struct State {
  std::string status;  // created, initialized, running, paused, stopping, stopped, exited, …
  int exit_code = 0;
  std::string error;  // State.Error: why the runtime could not start it
};
std::optional<State> inspect(const Connection& c, const std::string& name, http::Outcome& out);

http::Outcome start(const Connection& c, const std::string& name);                // 304 (already running) is ok
http::Outcome stop(const Connection& c, const std::string& name, int timeout_s);  // 304, 404 are ok
http::Outcome remove(const Connection& c, const std::string& name);               // force; 404 is ok
// The container's last `bytes` of stdout and stderr, demultiplexed; "" when it cannot be read.
std::string log_tail(const Connection& c, const std::string& name, std::size_t bytes = 2048);

}  // namespace stepq::podman
