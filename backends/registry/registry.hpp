// The image step against an OCI / Docker registry v2 (Skaha's Harbor; issue 15, item 4):
// does the image exist, what is its digest, and how many bytes would a pull move.
//
// inspect(): HEAD /v2/<name>/manifests/<reference> with the four manifest types in Accept, for
// the digest (Docker-Content-Digest, else the sha256 of the manifest) and the manifest's type;
// then GET it for the image's size, config.size + Σ layers[].size (an index or manifest list:
// the linux/amd64 entry's manifest). A 401 with a `Bearer` challenge (WWW-Authenticate: realm,
// service, scope) fetches a token from the realm — anonymously or with the user and password of
// the settings, by Basic auth — and asks again once with it (token or access_token, as the
// token spec allows). Calls and verdicts are backends/http's; the source of every rule here is
// research/platform-apis.md §3.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "backends/http/client.hpp"

namespace stepq::registry {

struct Settings {
  std::string url;                 // the registry's base, e.g. https://images.canfar.net or http://127.0.0.1:5000
  std::string username, password;  // for the token realm; empty: anonymous
  double connect_timeout_s = 10, total_timeout_s = 30;
};

struct Image {
  std::string digest;      // sha256:…
  std::string media_type;  // of the manifest HEAD answered for
  std::uint64_t manifest_bytes = 0;
  std::uint64_t image_bytes = 0;  // config and layers: what a pull moves at most
};

struct Inspected {
  http::Outcome outcome;       // not ok: why (the step's reason), and whether to retry
  std::optional<Image> image;  // when ok
};

// `name` as in the registry (`skaha/notebook`), `reference` a tag or a digest.
Inspected inspect(const Settings& s, const std::string& name, const std::string& reference);

// "images.canfar.net/skaha/notebook:1.2" → {"skaha/notebook", "1.2"}; no tag: "latest"; with
// "@sha256:…": that digest. The registry host part is dropped (the settings name the registry).
std::pair<std::string, std::string> split_image(const std::string& image);

}  // namespace stepq::registry
