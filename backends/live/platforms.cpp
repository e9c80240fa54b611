#include "platforms.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "adapter.hpp"
#include "backends/cavern/cavern_adapter.hpp"
#include "backends/podman/podman_adapter.hpp"
#include "backends/registry/registry_adapter.hpp"
#include "backends/rucio/rucio_adapter.hpp"
#include "backends/rucio/srcnet_adapter.hpp"
#include "backends/skaha/skaha_adapter.hpp"
#include "core/json_node.hpp"

namespace stepq::live {

using jsonc::Node;

namespace {

// Every adapter but the engine's own two: its name and its factory (adapter.hpp).
struct Entry {
  const char* name;
  AdapterFactory make;
};
const std::vector<Entry>& table() {
  static const std::vector<Entry> t = {
      {"cavern", &cavern::make_adapter}, {"podman", &podman::make_adapter}, {"registry", &registry::make_adapter},
      {"rucio", &rucio::make_adapter},   {"skaha", &skaha::make_adapter},   {"srcnet", &srcnet::make_adapter},
  };
  return t;
}

class Router final : public Services {
 public:
  Router(const Platforms& p, std::unique_ptr<Services> emulated, std::unique_ptr<Services> local)
      : p_(p), emulated_(std::move(emulated)), local_(std::move(local)) {}

  OpResult pull_image(const StepContext& c) override { return to(c).pull_image(c); }
  OpResult allocate_storage(const StepContext& c) override { return to(c).allocate_storage(c); }
  OpResult stage_data(const StepContext& c) override { return to(c).stage_data(c); }
  OpResult launch(const StepContext& c) override { return to(c).launch(c); }
  OpResult poll(const StepContext& c) override { return to(c).poll(c); }
  OpResult work(const StepContext& c) override { return to(c).work(c); }
  OpResult remove(const StepContext& c) override { return to(c).remove(c); }
  OpResult cleanup(const StepContext& c) override { return to(c).cleanup(c); }
  OpResult pushback(const StepContext& c) override { return to(c).pushback(c); }

 private:
  Services& to(const StepContext& c) {
    const KindPlatform& k = p_.kinds[c.ref.kind];
    if (k.service) return *k.service;
    return k.adapter == "local" ? *local_ : *emulated_;
  }
  const Platforms& p_;
  std::unique_ptr<Services> emulated_, local_;
};

}  // namespace

bool Platforms::uses(const std::string& adapter) const {
  if (default_adapter == adapter) return true;
  for (const auto& k : kinds)
    if (k.adapter == adapter) return true;
  return false;
}

const std::vector<std::string>& adapter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"emulated", "local"};
    for (const Entry& e : table()) n.push_back(e.name);
    return n;
  }();
  return names;
}

Platforms load_platforms(const std::string& file, const Scenario& sc, const std::string& db_identity) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) throw ScenarioError(file + ": cannot read the platforms file");
  return parse_platforms(ss.str(), file, sc, db_identity);
}

Platforms parse_platforms(const std::string& text, const std::string& file, const Scenario& sc,
                          const std::string& db_identity) {
  const jsonc::Json doc = jsonc::parse_document(text, file);
  const Node root(doc, "", file);
  root.object({"default", "instance", "adapters", "kinds"}, "an object with \"default\" and \"kinds\"");
  Platforms p;
  if (root["default"].present()) p.default_adapter = root["default"].choice({"emulated", "local"});
  p.instance = default_instance(db_identity);
  if (const Node n = root["instance"]; n.present()) {
    p.instance = n.name();
    if (p.instance.size() > 24 || !std::all_of(p.instance.begin(), p.instance.end(), [](char ch) {
          return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
        }))
      n.fail("must be 1 to 24 characters of a-z, 0-9 and '-' (it starts the names of what steps create)");
  }
  std::vector<std::string> table_names;
  for (const Entry& e : table()) table_names.push_back(e.name);
  const Node shared = root["adapters"];
  if (shared.present()) shared.object(table_names, "an object: adapter name -> settings its kinds share");

  p.kinds.resize(sc.kinds.size());
  for (auto& k : p.kinds) k.adapter = p.default_adapter;
  std::vector<std::string> kind_names;
  for (const auto& k : sc.kinds) kind_names.push_back(k.name);
  const Node kinds = root["kinds"];
  if (!kinds.present()) return p;
  kinds.object(kind_names, "an object: kind name -> its adapter");
  for (const std::string& name : kinds.names()) {
    const Node n = kinds[name];
    const int ki = static_cast<int>(std::find(kind_names.begin(), kind_names.end(), name) - kind_names.begin());
    KindPlatform& k = p.kinds[ki];
    if (!n.json().is_object()) n.expected("an object such as {\"adapter\": \"registry\", …}");
    k.adapter = n["adapter"].choice(adapter_names());
    if (k.adapter == "local" && p.default_adapter != "local")
      n["adapter"].fail(
          "\"local\" runs whole sessions on this machine (its poll watches its own launches): set it "
          "as /default instead");
    const auto e = std::find_if(table().begin(), table().end(), [&](const Entry& x) { return k.adapter == x.name; });
    if (e == table().end()) {
      n.object({"adapter"}, "{\"adapter\": \"" + k.adapter + "\"} (the " + k.adapter + " adapter takes no settings)");
      continue;
    }
    const AdapterConfig cfg(n, shared[k.adapter], sc, ki, k.adapter, p.instance);
    k.service = e->make(cfg);
  }
  return p;
}

std::unique_ptr<Services> route(const Platforms& p, std::unique_ptr<Services> emulated,
                                std::unique_ptr<Services> local) {
  return std::make_unique<Router>(p, std::move(emulated), std::move(local));
}

}  // namespace stepq::live
