#include "cavern_adapter.hpp"

#include <libxml/parser.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "core/plan.hpp"
#include "vospace.hpp"

namespace stepq::cavern {

namespace {

std::string whole(double bytes) { return std::to_string(std::llround(bytes)); }

std::optional<double> number(const NodeDoc& n, const char* uri) {
  const auto v = n.property(uri);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(v->c_str(), &end);
  if (end == v->c_str()) return std::nullopt;
  return d;
}

// One container per session, named after it, so every storage step of the session shares it and
// a step run again (a lost reply, another process) finds it on the server: nothing is kept here.
class CavernServices final : public live::AdapterServices {
 public:
  CavernServices(Settings s, std::string base, std::string instance)
      : AdapterServices("cavern"), s_(std::move(s)), base_(std::move(base)), instance_(std::move(instance)) {}

  OpResult allocate_storage(const StepContext& c) override {
    const std::string path = path_of_session(c);
    const http::Outcome put = put_container(s_, path);
    // 409 DuplicateNode: made by an earlier attempt whose reply was lost, or by another storage
    // step of the session; the GET below says whether it is a container.
    if (put.verdict != http::Outcome::Verdict::ok && put.response.status != 409) return http::as_op_result(put);
    const http::Outcome get = get_node(s_, path, "properties");
    if (get.verdict != http::Outcome::Verdict::ok) return http::as_op_result(get);
    std::string err;
    const auto node = parse_node(get.response.body, &err);
    if (!node) return {false, false, "GET " + http::redacted(get_url(path)) + ": " + err};
    if (node->type != "ContainerNode")
      return {false, false, path + " exists and is a " + node->type + ", not a ContainerNode", 0, true};
    const auto quota = number(*node, kQuota);
    const double used = number(*node, kLength).value_or(0);
    if (c.step.bytes > 0 && quota && *quota - used < c.step.bytes)
      return {false, false,
              "quota: " + whole(std::max(0.0, *quota - used)) + " bytes free in " + path + ", step asks for " +
                  whole(c.step.bytes)};
    return {};
  }

  OpResult cleanup(const StepContext& c) override { return release(c); }
  OpResult remove(const StepContext& c) override { return release(c); }

 private:
  OpResult release(const StepContext& c) { return http::as_op_result(delete_tree(s_, path_of_session(c))); }
  std::string path_of_session(const StepContext& c) const {
    return base_ + "/" + live::external_name(instance_, c.ref.session);
  }
  std::string get_url(const std::string& path) const { return s_.url + "/nodes/" + path; }

  Settings s_;
  std::string base_, instance_;
};

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  cfg.keys({"url", "authority_uri", "base", "token_env", "token_file", "connect_timeout_s", "total_timeout_s"});
  cfg.ops({Op::storage, Op::cleanup, Op::remove});
  Settings s;
  s.url = cfg.url();
  const auto auth = cfg["authority_uri"];
  // A missing key is named at the kind's entry: its own pointer would lead to /adapters/cavern.
  if (!auth.present()) cfg.fail("authority_uri is required: vos://AUTHORITY~NAME, how node URIs start");
  s.authority_uri = auth.name();
  while (!s.authority_uri.empty() && s.authority_uri.back() == '/') s.authority_uri.pop_back();
  if (s.authority_uri.rfind("vos://", 0) != 0 || s.authority_uri.size() == 6 ||
      s.authority_uri.find('/', 6) != std::string::npos)
    auth.fail("must be vos://AUTHORITY~NAME with no path (got \"" + auth.name() + "\")");
  const auto base_node = cfg["base"];
  if (!base_node.present()) cfg.fail("base is required: the container holding session containers (home/USER)");
  std::string base = base_node.name();
  while (!base.empty() && base.front() == '/') base.erase(0, 1);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty() || base.find("//") != std::string::npos || ("/" + base + "/").find("/../") != std::string::npos ||
      ("/" + base + "/").find("/./") != std::string::npos)
    base_node.fail("must be a path such as home/USER, without empty, '.' or '..' parts (got \"" + base_node.name() +
                   "\")");
  s.token = cfg.secret("token");
  if (s.token.empty()) cfg.fail("token_env or token_file is required: where the bearer token comes from");
  s.connect_timeout_s = cfg.seconds("connect_timeout_s", s.connect_timeout_s);
  s.total_timeout_s = cfg.seconds("total_timeout_s", s.total_timeout_s);
  xmlInitParser();  // once, before worker threads parse
  return std::make_unique<CavernServices>(std::move(s), std::move(base), cfg.instance());
}

}  // namespace stepq::cavern
