// What the chart builders (charts.cpp, cluster_charts.cpp, link_charts.cpp) share, so that every
// chart of a page has the same widths and the same time axis: the schema, the column widths, a
// bare spec, the unit and note of a timeline's time axis, and the one-row-per-series facet.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdio>
#include <string>

namespace stepq::charts::parts {

using ojson = nlohmann::ordered_json;

inline const char* const kSchema = "https://vega.github.io/schema/vega-lite/v6.json";
// Widths of the plotting area that leave room for axes and legends in the page's columns.
constexpr int kWide = 720, kHalf = 330;

inline ojson base(const std::string& title, int width, int height) {
  return {{"$schema", kSchema}, {"title", title}, {"width", width}, {"height", height}};
}

// The unit a timeline's time axis reads best in: seconds up to 4 min, then min, h, days.
inline double time_unit(const ojson& tl) {
  const double span = tl["t_s"].empty() ? 0 : tl["t_s"].back().get<double>() + tl["bin_s"].get<double>();
  return span > 4 * 86400 ? 86400 : span > 4 * 3600 ? 3600 : span > 240 ? 60 : 1;
}

inline std::string unit_name(double u) { return u == 86400 ? "days" : u == 3600 ? "h" : u == 60 ? "min" : "s"; }

inline std::string bin_note(const ojson& tl) {
  char b[96];
  const double bin = tl["bin_s"].get<double>();
  std::snprintf(b, sizeof b, "each point: the average over %.3g %s", bin / time_unit(tl),
                unit_name(time_unit(tl)).c_str());
  return b;
}

// The x axis of an over-time chart: bin middles in the timeline's unit.
inline ojson time_x(const ojson& tl, const std::string& time_title) {
  return {{"field", "t"}, {"type", "quantitative"}, {"title", time_title + " (" + unit_name(time_unit(tl)) + ")"}};
}

// One small chart per value of `field`, stacked in `order`, each labelled at its top left.
inline ojson row_facet(const std::string& field, const ojson& order) {
  return {{"row",
           {{"field", field},
            {"type", "nominal"},
            {"sort", order},
            {"header",
             {{"title", nullptr},
              {"labelAngle", 0},
              {"labelAlign", "left"},
              {"labelOrient", "top"},
              {"labelFontWeight", "bold"}}}}}};
}

// Does the result carry `key` (clusters, links) and its series under timeline.`key`?
inline bool has_timeline(const ojson& r, const char* key) {
  return r.contains(key) && r.contains("timeline") && r["timeline"].contains(key) && !r["timeline"]["t_s"].empty();
}

}  // namespace stepq::charts::parts
