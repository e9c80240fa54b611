// tests/rucio/rucio_srcnet_server.py started for a test: a Rucio REST server and the SRCNet
// locate API on 127.0.0.1, with settings and faults changed from the test (/_control) and its
// whole history readable (/_state); killed when the test ends, also when it fails.
#pragma once
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "backends/http/client.hpp"
#include "live/processes.hpp"

namespace stepq::test {

struct RucioServer {
  TempDir dir;
  std::unique_ptr<Proc> proc;
  std::string url;
  explicit RucioServer(const nlohmann::json& config = nlohmann::json::object()) {
    const std::string port = dir / "port";
    proc = std::make_unique<Proc>(
        std::vector<std::string>{"/usr/bin/python3", source("tests/rucio/rucio_srcnet_server.py"), port, config.dump()},
        dir.path, "server");
    for (int i = 0; i < 1000 && !std::filesystem::exists(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(port));
    url = "http://127.0.0.1:" + Proc::slurp(port);
  }
  // Merges `change` into the server's settings and faults.
  void control(const nlohmann::json& change) const {
    http::Request r;
    r.method = "POST";
    r.url = url + "/_control";
    http::json_body(r, change.dump());
    REQUIRE(http::call(r).verdict == http::Outcome::Verdict::ok);
  }
  // {"rules": [every rule ever made], "tokens": [every token issued], "stats": {call counts}}.
  nlohmann::json state() const {
    http::Request r;
    r.url = url + "/_state";
    const http::Outcome o = http::call(r);
    REQUIRE(o.verdict == http::Outcome::Verdict::ok);
    return nlohmann::json::parse(o.response.body);
  }
};

}  // namespace stepq::test
