// tests/http/fault_server.py started for a test: real HTTP on 127.0.0.1 (or a unix socket) with
// faults on demand; killed when the test ends, also when it fails.
#pragma once
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "backends/http/client.hpp"
#include "live/processes.hpp"

namespace stepq::test {

// fault_server.py on a TCP port of its choosing, or on a unix socket; killed at the end.
struct FaultServer {
  TempDir dir;
  std::unique_ptr<Proc> proc;
  std::string base, socket;
  explicit FaultServer(bool unix_socket = false) {
    const std::string where = unix_socket ? dir / "api.sock" : dir / "port";
    proc = std::make_unique<Proc>(std::vector<std::string>{"/usr/bin/python3", source("tests/http/fault_server.py"),
                                                           unix_socket ? "unix" : "tcp", where},
                                  dir.path, "server");
    for (int i = 0; i < 500 && !std::filesystem::exists(where); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(where));
    if (unix_socket) {
      socket = where;
      base = "http://podman";  // only the Host header
    } else {
      base = "http://127.0.0.1:" + Proc::slurp(where);
    }
  }
  http::Request get(const std::string& path) const {
    http::Request r;
    r.url = base + path;
    r.unix_socket = socket;
    return r;
  }
};

}  // namespace stepq::test
