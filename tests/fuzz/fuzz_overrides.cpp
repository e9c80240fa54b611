// Fuzz target: `--set /json/pointer=value` overrides (parse_override, then parse_scenario applies
// them before checking), as `stepq validate SCENARIO --set … --set …` does. The input is one
// override per line; a first line that does not start with '/' names the scenario of scenarios/
// they edit (an unknown name: the first of them). Seeds: tests/fuzz/seeds/overrides/.
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_util.hpp"

namespace {

// Every shipped scenario but those whose local files the loader would not read anyway.
const std::map<std::string, std::string>& bases() {
  static const std::map<std::string, std::string> b = [] {
    std::map<std::string, std::string> m;
    for (const char* n : {"mm4.json", "broker-today.json", "skaha-basic.json", "skaha-busy.json", "srcnet-async.json",
                          "local-demo.json", "podman-demo.json"})
      m[n] = stepq::fuzz::source_file(std::string("scenarios/") + n);
    return m;
  }();
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string line, base = "mm4.json";
  std::vector<stepq::Override> overrides;
  try {
    for (bool first = true; std::getline(in, line); first = false) {
      if (first && (line.empty() || line[0] != '/')) {
        if (bases().count(line)) base = line;
        continue;
      }
      overrides.push_back(stepq::parse_override(line));
    }
    stepq::parse_scenario(bases().at(base), "fuzz.json", overrides, &stepq::fuzz::fixed_trace);
  } catch (const stepq::ScenarioError& e) {
    stepq::fuzz::refused(e);
  }
  return 0;
}
