// The registry adapter (backends/registry/) against a real registry — Debian's docker-registry
// (the CNCF distribution registry), started here on 127.0.0.1 with an image pushed through its
// own upload API — and against tests/http/fault_server.py playing Harbor's token flow.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "backends/registry/registry.hpp"
#include "http/fault_server.hpp"
#include "live/processes.hpp"
#include "registry_server.hpp"

using namespace stepq;
using namespace stepq::test;
using Verdict = http::Outcome::Verdict;

TEST_CASE("registry: a real registry's image has the digest of its manifest and the size of its config and layers",
          "[registry]") {
  Registry r;
  const std::string config =
      R"({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})";
  const std::string layer1(1500, 'a'), layer2(2700, 'b');
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", kOciManifest},
                      {"config",
                       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", r.push_blob("skaha/notebook", config)},
                        {"size", config.size()}}},
                      {"layers", nlohmann::json::array()}};
  for (const std::string* l : {&layer1, &layer2})
    m["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                           {"digest", r.push_blob("skaha/notebook", *l)},
                           {"size", l->size()}});
  const std::string manifest = m.dump();
  r.push_manifest("skaha/notebook", "1.0", manifest, kOciManifest);

  registry::Settings s;
  s.url = r.url;
  const auto got = registry::inspect(s, "skaha/notebook", "1.0");
  INFO(got.outcome.error);
  REQUIRE(got.outcome.verdict == Verdict::ok);
  REQUIRE(got.image);
  CHECK(got.image->digest == sha256(manifest));
  CHECK(got.image->media_type == kOciManifest);
  CHECK(got.image->manifest_bytes == manifest.size());
  CHECK(got.image->image_bytes == config.size() + 1500 + 2700);
  // By digest too, as a re-run that pinned the image would ask.
  const auto pinned = registry::inspect(s, "skaha/notebook", sha256(manifest));
  REQUIRE(pinned.image);
  CHECK(pinned.image->digest == sha256(manifest));

  // An index: the linux/amd64 entry's image is the one measured.
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests",
                           {{{"mediaType", kOciManifest},
                             {"digest", sha256(manifest)},
                             {"size", manifest.size()},
                             {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  r.push_manifest("skaha/notebook", "multi", index.dump(), "application/vnd.oci.image.index.v1+json");
  const auto multi = registry::inspect(s, "skaha/notebook", "multi");
  INFO(multi.outcome.error);
  REQUIRE(multi.image);
  CHECK(multi.image->digest == sha256(index.dump()));
  CHECK(multi.image->image_bytes == config.size() + 1500 + 2700);

  // No such tag, no such repository: the step fails (asking again will not help) and says so.
  for (const auto& [name, tag] :
       {std::pair<std::string, std::string>{"skaha/notebook", "9.9"}, {"skaha/nosuch", "1.0"}}) {
    const auto missing = registry::inspect(s, name, tag);
    CHECK(missing.outcome.verdict == Verdict::fail);
    CHECK_FALSE(missing.image);
    CHECK_THAT(missing.outcome.error,
               Catch::Contains("HTTP 404") && Catch::Contains("no such image: " + name + ":" + tag));
  }
  // The registry gone: a retry.
  r.proc.reset();
  const auto down = registry::inspect(s, "skaha/notebook", "1.0");
  CHECK(down.outcome.verdict == Verdict::retry);
  CHECK_THAT(down.outcome.error, Catch::Contains("no answer"));
}

TEST_CASE("registry: Harbor's Bearer challenge is answered from the token realm, with Basic credentials",
          "[registry]") {
  const FaultServer server;
  const std::string& url = server.base;

  const auto got = registry::inspect({url, "ann", "pw"}, "skaha/notebook", "1.0");
  INFO(got.outcome.error);
  REQUIRE(got.outcome.verdict == Verdict::ok);
  REQUIRE(got.image);
  CHECK(got.image->image_bytes == 60);  // 10 + 20 + 30
  // No Docker-Content-Digest header here: the digest is the manifest's own sha256.
  http::Request raw;
  raw.url = url + "/v2/skaha/notebook/manifests/1.0";
  raw.headers = {{"Authorization", "Bearer tok-123"}};
  CHECK(got.image->digest == sha256(http::call(raw).response.body));

  // Wrong password: the realm refuses, the step fails with the registry's words and no secret.
  const auto refused = registry::inspect({url, "ann", "wrong-pw-77"}, "skaha/notebook", "1.0");
  CHECK(refused.outcome.verdict == Verdict::fail);
  CHECK_THAT(refused.outcome.error, Catch::StartsWith("registry token: GET " + url + "/service/token: HTTP 401") &&
                                        Catch::Contains("UNAUTHORIZED: bad credentials"));
  CHECK(refused.outcome.error.find("wrong-pw-77") == std::string::npos);
  CHECK(refused.outcome.error.find("harbor-registry") == std::string::npos);  // the query is not shown either
}

TEST_CASE("registry: image names split into repository and tag or digest as Docker reads them", "[registry]") {
  using P = std::pair<std::string, std::string>;
  CHECK(registry::split_image("images.canfar.net/skaha/notebook:1.2") == P{"skaha/notebook", "1.2"});
  CHECK(registry::split_image("skaha/notebook") == P{"skaha/notebook", "latest"});
  CHECK(registry::split_image("127.0.0.1:5000/busybox") == P{"busybox", "latest"});
  CHECK(registry::split_image("localhost/x/y:3") == P{"x/y", "3"});
  CHECK(registry::split_image("h.org/a@sha256:abc") == P{"a", "sha256:abc"});
}
