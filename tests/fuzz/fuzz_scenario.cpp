// Fuzz target: a scenario file's text (JSON with // and /* */ comments) through parse_scenario, as
// `stepq validate FILE` and every other command read it (cli/scenario_file.cpp). Seeds:
// scenarios/*.json and tests/bad/*.json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    stepq::parse_scenario(text, "fuzz.json", {}, &stepq::fuzz::fixed_trace);
  } catch (const stepq::ScenarioError& e) {
    stepq::fuzz::refused(e);
  }
  return 0;
}
