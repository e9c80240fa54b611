#include "srcnet_adapter.hpp"

#include "core/scenario.hpp"
#include "rule_ops.hpp"

namespace stepq::srcnet {

using nlohmann::json;
using Verdict = http::Outcome::Verdict;

namespace {

struct Locate {
  std::string url, token, path, sort, local_rse;
  double connect_timeout_s = 10, total_timeout_s = 30;
};

// Percent-encoding that keeps '/': a DID's name may be a path.
std::string path_encode(const std::string& s) {
  std::string out;
  std::size_t from = 0;
  for (auto slash = s.find('/');; slash = s.find('/', from)) {
    out += http::url_encode(s.substr(from, slash == std::string::npos ? std::string::npos : slash - from));
    if (slash == std::string::npos) return out;
    out += '/';
    from = slash + 1;
  }
}

void substitute(std::string& s, const std::string& key, const std::string& value) {
  for (auto p = s.find(key); p != std::string::npos; p = s.find(key, p + value.size())) s.replace(p, key.size(), value);
}

// The RSEs holding a replica: the list shape [{"identifier": RSE, "replicas": […]}, …], or the
// older map {RSE: [pfn, …]} (research/platform-apis.md §5). nullopt: neither.
std::optional<std::vector<std::string>> rses_of(const std::string& body) {
  const auto j = json::parse(body, nullptr, false);
  std::vector<std::string> rses;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (!e.is_object() || !e.contains("identifier") || !e["identifier"].is_string()) return std::nullopt;
      if (!e.contains("replicas") || !e["replicas"].is_array() || !e["replicas"].empty())
        rses.push_back(e["identifier"].get<std::string>());
    }
    return rses;
  }
  if (j.is_object()) {
    for (const auto& [rse, pfns] : j.items())
      if (!pfns.is_array() || !pfns.empty()) rses.push_back(rse);
    return rses;
  }
  return std::nullopt;
}

class SrcnetServices final : public live::AdapterServices {
 public:
  SrcnetServices(Locate l, rucio::Settings s, rucio::RuleSettings r, rucio::Dids d, std::string instance)
      : AdapterServices("srcnet"),
        l_(std::move(l)),
        dids_(d),
        rules_(std::move(s), std::move(r), std::move(d), std::move(instance)) {}

  OpResult stage_data(const StepContext& c) override {
    const rucio::Did did = rucio::split_did(dids_.of(c.step.id, c.ref.session));
    std::string path = l_.path;
    substitute(path, "{namespace}", path_encode(did.scope));
    substitute(path, "{name}", path_encode(did.name));
    http::Request r;
    r.url = l_.url + path + (l_.sort.empty() ? "" : "?sort=" + http::url_encode(l_.sort));
    r.headers = {{"Authorization", "Bearer " + l_.token}, {"Accept", "application/json"}};
    r.connect_timeout_s = l_.connect_timeout_s;
    r.total_timeout_s = l_.total_timeout_s;
    http::Outcome o = http::call(r);
    if (o.verdict != Verdict::ok) {
      o.error = "SRCNet locate " + did.str() + ": " + scrub(o.error);
      return http::as_op_result(o);
    }
    const auto rses = rses_of(o.response.body);
    if (!rses)
      return {false, false,
              "SRCNet locate " + did.str() + ": GET " + http::redacted(r.url) +
                  " answered neither a list of locations nor a map of RSEs"};
    for (const auto& rse : *rses)
      if (rse == l_.local_rse) return {};  // bind-mounted read-only where it is: nothing to copy, no rule
    return rules_.data(c);
  }
  OpResult work(const StepContext& c) override { return rules_.extend(c); }
  OpResult remove(const StepContext& c) override { return rules_.release(c); }
  OpResult cleanup(const StepContext& c) override { return rules_.release(c); }

 private:
  std::string scrub(std::string s) const {
    substitute(s, l_.token, "***");
    return rules_.client().scrub(s);
  }

  Locate l_;
  rucio::Dids dids_;
  rucio::RuleOps rules_;
};

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  cfg.keys({"url", "token_env", "token_file", "locate_path", "sort", "local_rse", "did", "dids", "rucio",
            "connect_timeout_s", "total_timeout_s"});
  cfg.ops({Op::data, Op::work, Op::remove, Op::cleanup});
  const bool data = cfg.kind_spec().op == Op::data;
  Locate l;
  l.url = cfg.url();
  l.token = cfg.secret("token");
  if (l.token.empty()) cfg.fail("missing \"token_env\" or \"token_file\": where the data-management API's token is");
  l.path = "/data/locate/{namespace}/{name}";
  if (const auto n = cfg["locate_path"]; n.present()) {
    l.path = n.name();
    if (l.path[0] != '/' || l.path.find("{name}") == std::string::npos)
      n.fail(
          "must start with '/' and hold {name} (and {namespace}): the path under url, e.g. "
          "\"/data/locate/{namespace}/{name}\"");
  }
  l.sort = cfg["sort"].present() ? cfg["sort"].string() : "nearest_by_ip";
  if (const auto n = cfg["local_rse"]; n.present()) l.local_rse = n.name();
  else if (data) cfg.fail("missing \"local_rse\": the RSE of this site, whose replicas are mounted without a rule");
  l.connect_timeout_s = cfg.seconds("connect_timeout_s", 10);
  l.total_timeout_s = cfg.seconds("total_timeout_s", 30);
  rucio::Dids d = rucio::read_dids(cfg, data);

  // The Rucio fallback's settings, checked as the rucio adapter's; its rules go to local_rse
  // unless it names another RSE expression.
  const jsonc::Node nested = cfg["rucio"];
  if (!nested.present())
    cfg.fail("missing \"rucio\": the Rucio server the rules are made on, {\"url\": …, \"account\": …}");
  const live::AdapterConfig rc(nested, nested["(absent)"], cfg.scenario(), cfg.kind(), "rucio", cfg.instance());
  std::vector<std::string> keys = rucio::settings_keys();
  keys.insert(keys.end(), rucio::rule_keys().begin(), rucio::rule_keys().end());
  rc.keys(keys);
  rucio::Settings s = rucio::read_settings(rc);
  rucio::RuleSettings r = rucio::read_rule_settings(rc, l.local_rse);
  return std::make_unique<SrcnetServices>(std::move(l), std::move(s), std::move(r), std::move(d), cfg.instance());
}

}  // namespace stepq::srcnet
