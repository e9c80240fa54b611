// tests/skaha/skaha_server.py started for a test: the Skaha session API on 127.0.0.1, its faults
// switched on through /_control and its whole history read from /_state; killed when the test
// ends, also when it fails.
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

struct SkahaServer {
  TempDir dir;
  std::unique_ptr<Proc> proc;
  std::string root;  // http://127.0.0.1:PORT
  std::string url;   // the service base the adapter is given: ROOT/skaha

  // `flags`: skaha_server.py's options, e.g. {"--token", "T", "--pending", "0.2"}.
  explicit SkahaServer(const std::vector<std::string>& flags = {}) {
    const std::string portfile = dir / "port";
    std::vector<std::string> args = {"/usr/bin/python3", source("tests/skaha/skaha_server.py"), portfile};
    args.insert(args.end(), flags.begin(), flags.end());
    proc = std::make_unique<Proc>(args, dir.path, "skaha");
    for (int i = 0; i < 1000 && !std::filesystem::exists(portfile); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    INFO(Proc::slurp(dir / "skaha.err"));
    REQUIRE(std::filesystem::exists(portfile));
    root = "http://127.0.0.1:" + Proc::slurp(portfile);
    url = root + "/skaha";
  }

  // POST /_control: faults and timings from now on, e.g. {"fail_503": 4}.
  void control(const nlohmann::json& j) const {
    http::Request r;
    r.method = "POST";
    r.url = root + "/_control";
    http::json_body(r, j.dump());
    const auto o = http::call(r);
    INFO(o.error);
    REQUIRE(o.verdict == http::Outcome::Verdict::ok);
  }

  // GET /_state: every session ever created (deleted and gone ones too), POSTs per name, calls.
  nlohmann::json state() const {
    http::Request r;
    r.url = root + "/_state";
    const auto o = http::call(r);
    INFO(o.error);
    REQUIRE(o.verdict == http::Outcome::Verdict::ok);
    return nlohmann::json::parse(o.response.body);
  }
};

}  // namespace stepq::test
