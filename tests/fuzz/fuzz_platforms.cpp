// Fuzz target: a platforms file (`stepq live run --platforms FILE`, docs/platforms.md) through
// parse_platforms, which load_platforms calls with the file's text, against the kinds of
// scenarios/podman-demo.json (image, storage, data, launch, poll, delete: every adapter has kinds
// it may run). Each adapter's factory checks its settings; nothing connects anywhere until a step
// runs. Seeds: scenarios/platforms/*.json and tests/fuzz/seeds/platforms/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "backends/live/platforms.hpp"
#include "fuzz_util.hpp"

namespace {

const stepq::Scenario& scenario() {
  static const stepq::Scenario sc =
      stepq::parse_scenario(stepq::fuzz::source_file("scenarios/podman-demo.json"), "scenarios/podman-demo.json", {},
                            [](const std::string& name) { return stepq::fuzz::source_file("scenarios/" + name); });
  return sc;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A secret given as "token_env": "STEPQ_FUZZ_TOKEN" (the seeds' name) is found, so the checks
  // after it are reached; a "_file" secret must name a readable file, as it would for real.
  setenv("STEPQ_FUZZ_TOKEN", "fuzz-token", 1);
  scenario();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    stepq::live::parse_platforms(text, "fuzz.json", scenario(), "sqlite:/tmp/fuzz.db");
  } catch (const stepq::ScenarioError& e) {
    stepq::fuzz::refused(e);
  }
  return 0;
}
