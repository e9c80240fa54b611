// The Podman service and registry that CTest's `podman` fixture started (scripts/podman.sh start
// DIR, with DIR in STEPQ_TEST_PODMAN_DIR), and the libpod calls tests make to check on them.
#pragma once
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "backends/http/client.hpp"

namespace stepq::test {

struct PodmanEnv {
  std::string socket, registry, image;
  PodmanEnv() {
    const char* dir = std::getenv("STEPQ_TEST_PODMAN_DIR");
    REQUIRE(dir);
    std::ifstream f(std::string(dir) + "/env");
    REQUIRE(f);
    std::map<std::string, std::string> kv;
    for (std::string line; std::getline(f, line);)
      if (const auto eq = line.find('='); eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    socket = kv["SOCKET"], registry = kv["REGISTRY"], image = kv["IMAGE"];
    REQUIRE(!socket.empty());
  }
  nlohmann::json get(const std::string& path_and_query) const {
    http::Request r;
    r.url = "http://podman/v4.0.0/libpod" + path_and_query;
    r.unix_socket = socket;
    const http::Outcome o = http::call(r);
    INFO(path_and_query << ": " << o.error);
    REQUIRE(o.verdict == http::Outcome::Verdict::ok);
    return nlohmann::json::parse(o.response.body);
  }
  // Events of one kind (create, start, remove…) for containers labelled stepq.instance=INSTANCE:
  // container name → how many times.
  std::map<std::string, int> events(const std::string& instance, const std::string& event) const {
    http::Request r;
    r.url = "http://podman/v4.0.0/libpod/events?stream=false&filters=" +
            http::url_encode(R"({"type":["container"],"event":[")" + event + R"("],"label":["stepq.instance=)" +
                             instance + R"("]})");
    r.unix_socket = socket;
    const http::Outcome o = http::call(r);
    REQUIRE(o.verdict == http::Outcome::Verdict::ok);
    std::map<std::string, int> n;
    std::istringstream lines(o.response.body);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) ++n[nlohmann::json::parse(line)["Actor"]["Attributes"].value("name", "?")];
    return n;
  }
  // The containers labelled stepq.instance=INSTANCE that exist now.
  std::size_t containers(const std::string& instance) const {
    return get("/containers/json?all=true&filters=" +
               http::url_encode(R"({"label":["stepq.instance=)" + instance + R"("]})"))
        .size();
  }
  bool exists(const std::string& name) const {
    http::Request r;
    r.url = "http://podman/v4.0.0/libpod/containers/" + name + "/exists";
    r.unix_socket = socket;
    return http::call(r).response.status == 204;
  }
};

}  // namespace stepq::test
