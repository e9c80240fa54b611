#include "cli/analyze_cmd.hpp"

#include <fstream>

#include "core/analytic.hpp"

namespace stepq {

nlohmann::ordered_json analyze_json(const Scenario& sc) { return analysis_json(sc, analyze(sc)); }

int run_analyze(const Scenario& sc, const std::string& json_path, bool quiet, std::ostream& out, std::ostream& err) {
  std::ofstream f;
  if (!json_path.empty() && json_path != "-") {
    f.open(json_path);
    if (!f) {
      err << "error: --json " << json_path << ": cannot open the result file for writing\n";
      return 1;
    }
  }
  nlohmann::ordered_json a;
  try {
    a = analyze_json(sc);
  } catch (const std::exception& e) {
    err << "stepq analyze: " << sc.file << ": " << e.what() << "\n";
    return 1;
  }
  if (!quiet) print_analysis(out, a);
  if (json_path == "-") {
    out << a.dump(2) << "\n";
  } else if (!json_path.empty()) {
    f << a.dump(2) << "\n";
    f.close();
    if (!f) {
      err << "error: --json " << json_path << ": writing the result failed\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace stepq
