// tests/cavern/cavern_server.py started for a test: a VOSpace service (Cavern's calls) on
// 127.0.0.1 with a node tree, a quota and faults on demand; killed when the test ends, also when
// it fails.
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

struct CavernServer {
  static constexpr const char* kAuthority = "vos://example.org~cavern";
  TempDir dir;
  std::unique_ptr<Proc> proc;
  std::string url;  // http://127.0.0.1:PORT
  // `dirs`: containers that exist from the start; `readonly`: a prefix no one may write under.
  CavernServer(const std::string& token, std::optional<long long> quota, std::vector<std::string> dirs = {"home/stepq"},
               const std::string& readonly = "") {
    const std::string port = dir / "port";
    std::vector<std::string> args = {
        "/usr/bin/python3", source("tests/cavern/cavern_server.py"), port, "--token", token, "--authority", kAuthority};
    for (const auto& d : dirs) args.insert(args.end(), {"--dir", d});
    if (quota) args.insert(args.end(), {"--quota", std::to_string(*quota)});
    if (!readonly.empty()) args.insert(args.end(), {"--readonly", readonly});
    proc = std::make_unique<Proc>(args, dir.path, "cavern");
    for (int i = 0; i < 500 && !std::filesystem::exists(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(port));
    url = "http://127.0.0.1:" + Proc::slurp(port);
  }
  http::Outcome send(const std::string& method, const std::string& path, const std::string& body = "") const {
    http::Request r;
    r.method = method;
    r.url = url + path;
    r.body = body;
    return http::call(r);
  }
  void control(const nlohmann::json& j) const { REQUIRE(send("POST", "/_control", j.dump()).response.status == 200); }
  void add_file(const std::string& path, long long bytes) const {
    REQUIRE(send("PUT", "/_file/" + path + "?bytes=" + std::to_string(bytes)).response.status == 201);
  }
  nlohmann::json state() const {
    const auto o = send("GET", "/_state");
    REQUIRE(o.response.status == 200);
    return nlohmann::json::parse(o.response.body);
  }
};

}  // namespace stepq::test
