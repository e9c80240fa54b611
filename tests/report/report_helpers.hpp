// Helpers for the report tests: run stepq (tests/live/processes.hpp), read what it wrote, and take
// apart an HTML report (its embedded result and chart specs).
#pragma once
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "live/processes.hpp"

namespace stepq::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The text of <script type="application/json" id="ID"> in an HTML page ("" if absent).
inline std::string script_text(const std::string& html, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  const auto a = html.find(open);
  if (a == std::string::npos) return "";
  const auto b = html.find("</script>", a);
  return html.substr(a + open.size(), b - a - open.size());
}

inline nlohmann::ordered_json embedded(const std::string& html, const std::string& id) {
  return nlohmann::ordered_json::parse(script_text(html, id));
}

// Runs any program (full path first) in `dir` to completion.
inline Result run_program(const std::vector<std::string>& args, const std::filesystem::path& dir,
                          double timeout_s = 600) {
  static int n = 0;
  Proc p(args, dir, "prog" + std::to_string(n++));
  return p.wait(timeout_s);
}

// Number of chart containers in the page's body.
inline int chart_divs(const std::string& html) {
  int n = 0;
  for (std::size_t p = 0; (p = html.find("<div class=\"chart ", p)) != std::string::npos; ++p) ++n;
  return n;
}

// The report in `dir` embeds the very result `--json` wrote, and every chart it declares has a
// container (and there are charts).
inline void same_result(const TempDir& dir, const std::string& report, const std::string& json) {
  const std::string html = slurp(dir / report);
  const auto page = embedded(html, "result");
  const auto file = nlohmann::ordered_json::parse(slurp(dir / json));
  CHECK(page == file);  // the same numbers, keys in the same order
  const auto specs = embedded(html, "specs");
  CHECK(specs.size() >= 2);
  CHECK(chart_divs(html) == static_cast<int>(specs.size()));
}

// Time-weighted mean over [0, end_s] of a series on bins starting at t_s (the last may be shorter).
inline double time_average(const nlohmann::ordered_json& t_s, const nlohmann::ordered_json& values, double end_s) {
  double area = 0;
  for (std::size_t i = 0; i < t_s.size(); ++i) {
    const double to = i + 1 < t_s.size() ? t_s[i + 1].get<double>() : end_s;
    area += values[i].get<double>() * (to - t_s[i].get<double>());
  }
  return area / end_s;
}

}  // namespace stepq::test
