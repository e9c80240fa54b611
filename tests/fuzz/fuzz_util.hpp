// What the fuzz targets of tests/fuzz/ share: files of the source tree they start from, and the
// rule every target checks — bad input ends in a ScenarioError (the CLI prints it and exits 2);
// any other exception escapes to libFuzzer, which reports it as a crash with the input.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/scenario_load.hpp"

namespace stepq::fuzz {

// A file of the source tree (STEPQ_SOURCE_DIR is set by tests/fuzz/CMakeLists.txt), read once
// when a target starts; a missing one is a broken build, not a finding.
inline std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(STEPQ_SOURCE_DIR) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("fuzz: cannot read " + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The trace file a fuzzed scenario names: always the same small valid trace, so that a scenario
// with trace arrivals gets past them (trace text itself is fuzzed by fuzz_trace.cpp). A name
// starting with "missing" fails the way an unreadable file does.
inline std::string fixed_trace(const std::string& name) {
  if (name.rfind("missing", 0) == 0) throw ScenarioError("cannot read " + name + ": No such file or directory");
  return "time_s\n0\n0.5\n2\n";
}

// A refusal, which is what bad input must get; printed when STEPQ_FUZZ_VERBOSE is set, to see
// how far a seed gets (`STEPQ_FUZZ_VERBOSE=1 build/fuzz/fuzz_platforms FILE`).
inline void refused(const ScenarioError& e) {
  static const bool verbose = std::getenv("STEPQ_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
}

}  // namespace stepq::fuzz
