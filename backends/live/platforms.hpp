// The platforms file of `stepq live run --platforms FILE` (issue 15, item 1): which adapter runs
// each step kind, with its settings. JSON with comments, validated like a scenario: a mistake is a
// ScenarioError naming the file and the JSON pointer (exit 2). Format in docs/platforms.md.
//
//   {"default": "emulated",                       // kinds not listed; "emulated" or "local"
//    "kinds": {"image.pull": {"adapter": "registry", "url": "https://images.canfar.net",
//                             "image": "skaha/notebook:1.2", "images": {"TEMPLATE": "…"},
//                             "username": "ann", "password_env": "VAR" | "password_file": "PATH",
//                             "connect_timeout_s": 10, "total_timeout_s": 30}}}
//
// Adapters so far: `emulated` (the scenario's cost model, sleeping), `local` (this machine; only
// as the default: it runs whole sessions, its poll watches its own launches) and `registry`
// (image kinds: the image must exist in an OCI registry; backends/registry/). Secrets are read
// when the file is loaded and never printed.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/registry/registry.hpp"
#include "core/interfaces.hpp"
#include "core/scenario.hpp"

namespace stepq::live {

struct KindPlatform {
  std::string adapter = "emulated";
  registry::Settings registry;               // adapter "registry"
  std::string image;                         // the image for every template…
  std::map<std::string, std::string> images; // …or per template name
};

struct Platforms {
  std::string default_adapter = "emulated";
  std::vector<KindPlatform> kinds;  // indexed like Scenario::kinds
  bool uses(const std::string& adapter) const;
};

// Throws ScenarioError ("FILE: POINTER: …") for anything it cannot use.
Platforms load_platforms(const std::string& file, const Scenario& sc);

// One Services that sends each step to its kind's adapter. `emulated` and `local` are the
// Services the engine would use for the whole run (either may be null when no kind uses it).
std::unique_ptr<Services> route(const Platforms& p, const Scenario& sc, std::unique_ptr<Services> emulated,
                                std::unique_ptr<Services> local);

}  // namespace stepq::live
