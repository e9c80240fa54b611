// Test helpers: scenarios from inline JSON, and simulations in child processes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/scenario_load.hpp"
#include "sim/isolated.hpp"

namespace stepq::test {

inline Scenario scenario(const std::string& json, const std::vector<Override>& ov = {}) {
  return parse_scenario(json, "inline.json", ov);
}

inline nlohmann::ordered_json simulate(const Scenario& sc, const sim::SimOptions& opt = {}) {
  return sim::run_isolated(sc, opt);
}

inline const nlohmann::ordered_json& kind(const nlohmann::ordered_json& r, const std::string& k) {
  return r.at("kinds").at(k);
}

}  // namespace stepq::test
