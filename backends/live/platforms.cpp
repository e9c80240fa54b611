#include "platforms.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/json_node.hpp"

namespace stepq::live {

using jsonc::Node;

bool Platforms::uses(const std::string& adapter) const {
  if (default_adapter == adapter) return true;
  for (const auto& k : kinds)
    if (k.adapter == adapter) return true;
  return false;
}

namespace {

std::string read_secret(const Node& n, const std::string& what) {
  const Node env = n[what + "_env"], file = n[what + "_file"];
  if (env.present() && file.present()) file.fail("give " + what + "_env or " + what + "_file, not both");
  if (env.present()) {
    const std::string var = env.name();
    const char* v = std::getenv(var.c_str());
    if (!v || !*v) env.fail("the environment variable " + var + " is not set (it holds the " + what + ")");
    return v;
  }
  if (file.present()) {
    const std::string path = file.name();
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    if (!f) file.fail("cannot read " + path + " (it holds the " + what + ")");
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  return "";
}

class Router final : public Services {
 public:
  Router(const Platforms& p, const Scenario& sc, std::unique_ptr<Services> emulated, std::unique_ptr<Services> local)
      : p_(p), sc_(sc), emulated_(std::move(emulated)), local_(std::move(local)) {}

  OpResult pull_image(const StepContext& c) override {
    const KindPlatform& k = p_.kinds[c.ref.kind];
    if (k.adapter != "registry") return to(c).pull_image(c);
    const auto it = k.images.find(sc_.templates[c.ref.tmpl].name);
    const auto [name, ref] = registry::split_image(it != k.images.end() ? it->second : k.image);
    return http::as_op_result(registry::inspect(k.registry, name, ref).outcome);
  }
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
    const std::string& a = p_.kinds[c.ref.kind].adapter;
    return a == "local" ? *local_ : *emulated_;
  }
  const Platforms& p_;
  const Scenario& sc_;
  std::unique_ptr<Services> emulated_, local_;
};

}  // namespace

Platforms load_platforms(const std::string& file, const Scenario& sc) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) throw ScenarioError(file + ": cannot read the platforms file");
  const std::string text = ss.str();
  const jsonc::Json doc = jsonc::parse_document(text, file);
  const Node root(doc, "", file);
  root.object({"default", "kinds"}, "an object with \"default\" and \"kinds\"");
  Platforms p;
  if (root["default"].present()) p.default_adapter = root["default"].choice({"emulated", "local"});
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
    n.object({"adapter", "url", "image", "images", "username", "password_env", "password_file", "connect_timeout_s",
              "total_timeout_s"});
    k.adapter = n["adapter"].choice({"emulated", "local", "registry"});
    if (k.adapter == "local" && p.default_adapter != "local")
      n["adapter"].fail("\"local\" runs whole sessions on this machine (its poll watches its own launches): set it "
                        "as /default instead");
    if (k.adapter != "registry") {
      for (const char* key : {"url", "image", "images", "username", "password_env", "password_file"})
        if (n[key].present()) n[key].fail("only the \"registry\" adapter takes this key");
      continue;
    }
    if (sc.kinds[ki].op != Op::image)
      n["adapter"].fail("the registry adapter runs image steps; kind " + name + " has op \"" +
                        std::string(to_string(sc.kinds[ki].op)) + "\"");
    k.registry.url = n["url"].name();
    if (k.registry.url.rfind("http://", 0) != 0 && k.registry.url.rfind("https://", 0) != 0)
      n["url"].fail("must start with http:// or https:// (got \"" + k.registry.url + "\")");
    while (!k.registry.url.empty() && k.registry.url.back() == '/') k.registry.url.pop_back();
    if (n["username"].present()) k.registry.username = n["username"].name();
    k.registry.password = read_secret(n, "password");
    if (!k.registry.password.empty() && k.registry.username.empty())
      n["username"].fail("a password needs a username");
    if (n["connect_timeout_s"].present()) k.registry.connect_timeout_s = n["connect_timeout_s"].positive();
    if (n["total_timeout_s"].present()) k.registry.total_timeout_s = n["total_timeout_s"].positive();
    if (n["image"].present()) k.image = n["image"].name();
    if (n["images"].present()) {
      std::vector<std::string> templates;
      for (const auto& t : sc.templates) templates.push_back(t.name);
      n["images"].object(templates, "an object: template name -> image");
      for (const std::string& t : n["images"].names()) k.images[t] = n["images"][t].name();
    }
    for (const auto& t : sc.templates)
      if (k.image.empty() && !k.images.count(t.name))
        for (const auto& st : t.steps)
          if (st.kind == ki) n["image"].fail("no image for template " + t.name + " (give \"image\", or \"images\": {\"" +
                                             t.name + "\": ...})");
  }
  return p;
}

std::unique_ptr<Services> route(const Platforms& p, const Scenario& sc, std::unique_ptr<Services> emulated,
                                std::unique_ptr<Services> local) {
  return std::make_unique<Router>(p, sc, std::move(emulated), std::move(local));
}

}  // namespace stepq::live
