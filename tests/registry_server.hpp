// A real OCI registry for tests: Debian's docker-registry on a free loopback port, storing into a
// temporary directory, killed at the end; images pushed through its own upload API.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "backends/http/client.hpp"
#include "live/processes.hpp"

namespace stepq::test {

inline const std::string kOciManifest = "application/vnd.oci.image.manifest.v1+json";

inline int registry_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  char hex[3];
  std::string s = "sha256:";
  for (unsigned i = 0; i < n; ++i) std::snprintf(hex, sizeof hex, "%02x", md[i]), s += hex;
  return s;
}

// docker-registry on a free loopback port, storing into a temporary directory; killed at the end.
struct Registry {
  TempDir dir;
  std::unique_ptr<Proc> proc;
  std::string url;
  Registry() {
    const int port = registry_free_port();
    url = "http://127.0.0.1:" + std::to_string(port);
    std::ofstream(dir / "config.yml")
        << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: " << dir / "data"
        << "\nhttp:\n  addr: 127.0.0.1:" << port << "\n";
    proc = std::make_unique<Proc>(std::vector<std::string>{"/usr/bin/docker-registry", "serve", dir / "config.yml"},
                                  dir.path, "registry");
    http::Request ping;
    ping.url = url + "/v2/";
    for (int i = 0; i < 500 && http::call(ping).response.status != 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    INFO(Proc::slurp(dir / "registry.err"));
    REQUIRE(http::call(ping).response.status == 200);
  }
  // A blob through the upload API (POST, then PUT with its digest); returns the digest.
  std::string push_blob(const std::string& name, const std::string& data) const {
    http::Request start;
    start.method = "POST";
    start.url = url + "/v2/" + name + "/blobs/uploads/";
    const auto s = http::call(start);
    REQUIRE(s.response.status == 202);
    std::string location = s.response.header("location").value();
    if (location.rfind("http", 0) != 0) location = url + location;
    const std::string digest = sha256(data);
    http::Request put;
    put.method = "PUT";
    put.url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest;
    put.body = data;
    put.headers = {{"Content-Type", "application/octet-stream"}};
    const auto p = http::call(put);
    INFO(p.error);
    REQUIRE(p.response.status == 201);
    return digest;
  }
  void push_manifest(const std::string& name, const std::string& ref, const std::string& body,
                     const std::string& type) const {
    http::Request put;
    put.method = "PUT";
    put.url = url + "/v2/" + name + "/manifests/" + ref;
    put.body = body;
    put.headers = {{"Content-Type", type}};
    const auto p = http::call(put);
    INFO(p.error << " " << p.response.body);
    REQUIRE(p.response.status == 201);
  }
  // A small image (a config and one layer of `layer_bytes`) under name:tag; returns its manifest.
  std::string push_image(const std::string& name, const std::string& tag, std::size_t layer_bytes = 1000) const {
    const std::string config =
        R"({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})";
    const std::string layer(layer_bytes, 'x');
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", kOciManifest},
                        {"config",
                         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", push_blob(name, config)},
                          {"size", config.size()}}},
                        {"layers",
                         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                           {"digest", push_blob(name, layer)},
                           {"size", layer.size()}}}}};
    push_manifest(name, tag, m.dump(), kOciManifest);
    return m.dump();
  }
};

}  // namespace stepq::test
