// Fuzz target: the text of a trace file (`"arrivals": {"process": "trace", "file": …}`: one
// arrival time per line, an optional header), read through parse_scenario's file reader as the CLI
// reads it. Seeds: tests/bad/*.csv and tests/fuzz/seeds/trace/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.hpp"

namespace {

const std::string kScenario = R"({"sessions": 3, "arrivals": {"process": "trace", "file": "arrivals.csv"},
  "kinds": {"work": {"threads": 1, "service_s": 1}},
  "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string trace(reinterpret_cast<const char*>(data), size);
  try {
    stepq::parse_scenario(kScenario, "fuzz.json", {}, [&](const std::string&) { return trace; });
  } catch (const stepq::ScenarioError& e) {
    stepq::fuzz::refused(e);
  }
  return 0;
}
