#include "registry_adapter.hpp"

#include "registry.hpp"

namespace stepq::registry {

namespace {

class RegistryServices final : public live::AdapterServices {
 public:
  RegistryServices(Settings s, std::vector<std::string> images)
      : AdapterServices("registry"), s_(std::move(s)), images_(std::move(images)) {}

  OpResult pull_image(const StepContext& c) override {
    const auto [name, ref] = split_image(images_[c.ref.tmpl]);
    const Inspected in = inspect(s_, name, ref);
    OpResult r = http::as_op_result(in.outcome);
    if (r.ok && r.ready && in.image)  // recorded in the execution log: which image, how big
      r.reason = name + ":" + ref + " " + in.image->digest + ", " + std::to_string(in.image->image_bytes) + " bytes";
    return r;
  }

 private:
  Settings s_;
  std::vector<std::string> images_;  // per template ("" where the template has no such step)
};

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  cfg.keys(
      {"url", "image", "images", "username", "password_env", "password_file", "connect_timeout_s", "total_timeout_s"});
  cfg.ops({Op::image});
  Settings s;
  s.url = cfg.url();
  if (cfg["username"].present()) s.username = cfg["username"].name();
  s.password = cfg.secret("password");
  if (!s.password.empty() && s.username.empty()) cfg["username"].fail("a password needs a username");
  s.connect_timeout_s = cfg.seconds("connect_timeout_s", s.connect_timeout_s);
  s.total_timeout_s = cfg.seconds("total_timeout_s", s.total_timeout_s);
  cfg.require_per_template("image", "images");
  std::vector<std::string> images;
  for (int t = 0; t < static_cast<int>(cfg.scenario().templates.size()); ++t) {
    const auto n = cfg.per_template("image", "images", t);
    images.push_back(n.present() ? n.name() : "");
  }
  return std::make_unique<RegistryServices>(std::move(s), std::move(images));
}

}  // namespace stepq::registry
