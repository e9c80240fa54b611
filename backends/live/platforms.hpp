// The platforms file of `stepq live run --platforms FILE` (issue 15, item 1): which adapter runs
// each step kind, with its settings. JSON with comments, validated like a scenario: a mistake is a
// ScenarioError naming the file and the JSON pointer (exit 2). Format in docs/platforms.md.
//
//   {"default": "emulated",                  // kinds not listed: "emulated" or "local"
//    "instance": "stepq-lab",                // prefix of created names (default: from the database)
//    "adapters": {"skaha": {"url": …, "token_env": "VAR"}},   // settings shared by a service's kinds
//    "kinds": {"image.pull": {"adapter": "registry", "url": "https://images.canfar.net", …}}}
//
// `emulated` (the scenario's cost model, sleeping) and `local` (this machine; only as the default:
// it runs whole sessions, its poll watches its own launches) are the engine's own; every other
// adapter is a factory in the table in platforms.cpp (backends/live/adapter.hpp), built once per
// kind when the file is loaded. Secrets are read then and never printed.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/interfaces.hpp"
#include "core/scenario.hpp"

namespace stepq::live {

struct KindPlatform {
  std::string adapter = "emulated";
  std::shared_ptr<Services> service;  // for adapters other than emulated and local
};

struct Platforms {
  std::string default_adapter = "emulated";
  std::string instance;             // the prefix of external names (adapter.hpp)
  std::vector<KindPlatform> kinds;  // indexed like Scenario::kinds
  bool uses(const std::string& adapter) const;
};

// Throws ScenarioError ("FILE: POINTER: …") for anything it cannot use. `db_identity` names the
// database (its URL without a password; a SQLite path made absolute): the default instance.
Platforms load_platforms(const std::string& file, const Scenario& sc, const std::string& db_identity);
// The same for the file's text (load_platforms reads the file and calls this; the fuzz target
// tests/fuzz/fuzz_platforms.cpp calls it directly, without a file per input).
Platforms parse_platforms(const std::string& text, const std::string& file, const Scenario& sc,
                          const std::string& db_identity);

// The adapters the platforms file knows, in the order docs/platforms.md lists them.
const std::vector<std::string>& adapter_names();

// One Services that sends each step to its kind's adapter. `emulated` and `local` are the
// Services the engine would use for the whole run (either may be null when no kind uses it).
std::unique_ptr<Services> route(const Platforms& p, std::unique_ptr<Services> emulated,
                                std::unique_ptr<Services> local);

}  // namespace stepq::live
