#include "rucio_adapter.hpp"

#include "core/scenario.hpp"
#include "rule_ops.hpp"

namespace stepq::rucio {

namespace {

class RucioServices final : public live::AdapterServices {
 public:
  RucioServices(Settings s, RuleSettings r, Dids d, std::string instance)
      : AdapterServices("rucio"), ops_(std::move(s), std::move(r), std::move(d), std::move(instance)) {}

  OpResult stage_data(const StepContext& c) override { return ops_.data(c); }
  OpResult work(const StepContext& c) override { return ops_.extend(c); }
  OpResult remove(const StepContext& c) override { return ops_.release(c); }
  OpResult cleanup(const StepContext& c) override { return ops_.release(c); }

 private:
  RuleOps ops_;
};

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  std::vector<std::string> keys = settings_keys();
  keys.insert(keys.end(), rule_keys().begin(), rule_keys().end());
  keys.insert(keys.end(), {"did", "dids"});
  cfg.keys(keys);
  cfg.ops({Op::data, Op::work, Op::remove, Op::cleanup});
  Settings s = read_settings(cfg);
  RuleSettings r = read_rule_settings(cfg);
  Dids d = read_dids(cfg, cfg.kind_spec().op == Op::data);
  return std::make_unique<RucioServices>(std::move(s), std::move(r), std::move(d), cfg.instance());
}

}  // namespace stepq::rucio
