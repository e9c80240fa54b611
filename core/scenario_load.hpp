// Reading and checking scenario files (DESIGN §3).
//
// Contract: parse_scenario either returns a fully validated Scenario or throws ScenarioError
// whose message is one line, "FILE: /json/pointer: what was expected (got …)", ready to print.
// Nothing is silently defaulted that the user could have misspelt: unknown keys are errors with
// a "did you mean" hint. The text may contain // and /* */ comments.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "scenario.hpp"

namespace stepq {

struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One `--set /json/pointer=value` override; value is JSON if it parses as JSON, else a string.
struct Override {
  std::string pointer, value;
};
// Splits "PTR=VALUE"; throws ScenarioError("--set X: …") when malformed.
Override parse_override(const std::string& arg);

// Reads a file named in a scenario (relative names are resolved by the caller), or throws
// ScenarioError. core/ does no I/O itself: the caller supplies this.
using FileReader = std::function<std::string(const std::string& name)>;

Scenario parse_scenario(const std::string& text, const std::string& file, const std::vector<Override>& overrides = {},
                        const FileReader& read_file = {});

}  // namespace stepq
