// The result JSON of `stepq simulate` (DESIGN §4; its keys are a contract).
#pragma once
#include <nlohmann/json.hpp>

#include "core/scenario.hpp"
#include "core/stats.hpp"

namespace stepq {

nlohmann::ordered_json result_json(const Scenario& sc, const RunStats& st);

}  // namespace stepq
