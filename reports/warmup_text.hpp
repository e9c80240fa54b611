// What warm-up removal did, in words: how many sessions each run dropped and why. One text for
// the terminal table and the HTML report, read from the result JSON's `warmup` object.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stepq {

// Lines without indentation or newlines, each within 90 columns; the first is the headline.
std::vector<std::string> warmup_text(const nlohmann::ordered_json& result);

}  // namespace stepq
