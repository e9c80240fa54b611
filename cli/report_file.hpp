// `--report FILE` of simulate, tune and live status: checked before the work starts (the chart
// libraries are built in, the file can be created), so a bad path fails at once with exit 2,
// not after minutes of simulation.
#pragma once
#include <fstream>
#include <string>

#include "core/scenario_load.hpp"
#include "reports/html_page.hpp"

namespace stepq {

inline void check_report_path(const std::string& path) {
  if (path.empty()) return;
  std::string why;
  if (!charts_available(&why)) throw ScenarioError("--report " + path + ": " + why);
  std::ofstream f(path, std::ios::app);
  if (!f) throw ScenarioError("--report " + path + ": cannot open the file for writing");
}

}  // namespace stepq
