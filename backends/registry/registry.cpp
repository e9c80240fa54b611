#include "registry.hpp"

#include <openssl/evp.h>

#include <map>
#include <vector>

#include <nlohmann/json.hpp>

namespace stepq::registry {

namespace {

const char* const kAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string s = "sha256:";
  for (unsigned i = 0; i < n; ++i) s += digits[md[i] >> 4], s += digits[md[i] & 15];
  return s;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// `Bearer realm="…",service="…",scope="…"` → its parameters; empty when not a Bearer challenge.
std::map<std::string, std::string> bearer_challenge(const std::string& h) {
  std::map<std::string, std::string> p;
  if (h.size() < 7 || h.compare(0, 7, "Bearer ") != 0) return p;
  for (std::size_t i = 7; i < h.size();) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    const auto eq = h.find('=', i);
    if (eq == std::string::npos) break;
    const std::string key = h.substr(i, eq - i);
    std::string value;
    i = eq + 1;
    if (i < h.size() && h[i] == '"') {
      for (++i; i < h.size() && h[i] != '"'; ++i) value += h[i] == '\\' && i + 1 < h.size() ? h[++i] : h[i];
      ++i;
    } else {
      while (i < h.size() && h[i] != ',') value += h[i++];
    }
    p[key] = value;
  }
  return p;
}

struct Session {
  const Settings& s;
  std::string name;
  std::string bearer;  // once the realm has given one

  http::Request request(const std::string& method, const std::string& reference) const {
    http::Request r;
    r.method = method;
    r.url = s.url + "/v2/" + name + "/manifests/" + reference;
    r.headers = {{"Accept", kAccept}};
    if (!bearer.empty()) r.headers.emplace_back("Authorization", "Bearer " + bearer);
    r.connect_timeout_s = s.connect_timeout_s;
    r.total_timeout_s = s.total_timeout_s;
    return r;
  }

  // A call, and on a Bearer challenge the token dance once.
  http::Outcome call(const std::string& method, const std::string& reference) {
    http::Outcome o = http::call(request(method, reference));
    if (o.response.status != 401 || !bearer.empty()) return o;
    const auto challenge = bearer_challenge(o.response.header("www-authenticate").value_or(""));
    if (!challenge.count("realm")) return o;  // Basic or nothing: credentials we do not have
    http::Request t;
    const auto param = [&](const char* key, const std::string& otherwise) {
      return http::url_encode(challenge.count(key) ? challenge.at(key) : otherwise);
    };
    t.url = challenge.at("realm") + "?service=" + param("service", "") +
            "&scope=" + param("scope", "repository:" + name + ":pull");
    if (!s.username.empty()) t.headers.emplace_back("Authorization", "Basic " + base64(s.username + ":" + s.password));
    t.connect_timeout_s = s.connect_timeout_s;
    t.total_timeout_s = s.total_timeout_s;
    http::Outcome got = http::call(t);
    if (got.verdict != http::Outcome::Verdict::ok) {
      got.error = "registry token: " + got.error;
      return got;
    }
    const auto j = nlohmann::json::parse(got.response.body, nullptr, false);
    for (const char* key : {"token", "access_token"})
      if (j.is_object() && j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
        bearer = j[key].get<std::string>();
        break;
      }
    if (bearer.empty()) {
      got.verdict = http::Outcome::Verdict::fail;
      got.error = "registry token: " + http::redacted(t.url) + " answered without a token";
      return got;
    }
    return http::call(request(method, reference));
  }
};

std::uint64_t size_of(const nlohmann::json& manifest) {
  std::uint64_t n = 0;
  if (manifest.contains("config") && manifest["config"].contains("size"))
    n += manifest["config"]["size"].get<std::uint64_t>();
  if (manifest.contains("layers"))
    for (const auto& l : manifest["layers"]) n += l.value("size", std::uint64_t{0});
  return n;
}

Inspected failed(http::Outcome o, const std::string& why) {
  o.verdict = http::Outcome::Verdict::fail;
  o.error = why;
  return {o, std::nullopt};
}

}  // namespace

std::pair<std::string, std::string> split_image(const std::string& image) {
  std::string rest = image;
  // A first component with a dot, a colon or "localhost" is the registry's host (Docker's rule).
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    const std::string first = rest.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") rest = rest.substr(slash + 1);
  }
  if (const auto at = rest.find('@'); at != std::string::npos) return {rest.substr(0, at), rest.substr(at + 1)};
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos)
    return {rest.substr(0, colon), rest.substr(colon + 1)};
  return {rest, "latest"};
}

Inspected inspect(const Settings& s, const std::string& name, const std::string& reference) {
  Session session{s, name, {}};
  http::Outcome head = session.call("HEAD", reference);
  if (head.verdict != http::Outcome::Verdict::ok) {
    // HEAD answers have no body: say what the status means (research/platform-apis.md §3.1).
    if (head.response.status == 404) head.error += " (no such image: " + name + ":" + reference + ")";
    return {head, std::nullopt};
  }
  Image img;
  img.media_type = head.response.header("content-type").value_or("");
  http::Outcome get = session.call("GET", reference);
  if (get.verdict != http::Outcome::Verdict::ok) return {get, std::nullopt};
  img.manifest_bytes = get.response.body.size();
  // Docker-Content-Digest is optional ("SHOULD NOT depend on"): the manifest's own sha256 is the digest.
  img.digest = head.response.header("docker-content-digest").value_or(sha256_hex(get.response.body));
  auto manifest = nlohmann::json::parse(get.response.body, nullptr, false);
  if (!manifest.is_object()) return failed(get, "registry: " + name + ":" + reference + ": the manifest is not JSON");
  if (manifest.contains("manifests")) {  // an index: the linux/amd64 image
    std::string pick;
    for (const auto& m : manifest["manifests"])
      if (m.contains("platform") && m["platform"].value("os", "") == "linux" &&
          m["platform"].value("architecture", "") == "amd64")
        pick = m.value("digest", "");
    if (pick.empty()) return failed(get, "registry: " + name + ":" + reference + ": no linux/amd64 image in its index");
    http::Outcome one = session.call("GET", pick);
    if (one.verdict != http::Outcome::Verdict::ok) return {one, std::nullopt};
    manifest = nlohmann::json::parse(one.response.body, nullptr, false);
    if (!manifest.is_object()) return failed(one, "registry: " + name + "@" + pick + ": the manifest is not JSON");
  }
  img.image_bytes = size_of(manifest);
  return {head, img};
}

}  // namespace stepq::registry
