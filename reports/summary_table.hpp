// The human summary of a simulation, printed from the result JSON so that the table and the
// JSON can never disagree. Fits 100 columns.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "term_style.hpp"

namespace stepq {

void print_summary(std::ostream& out, const nlohmann::ordered_json& result, const TermStyle& style = {});

}  // namespace stepq
