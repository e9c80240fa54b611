#include "link_charts.hpp"

#include "chart_parts.hpp"
#include "reports/format.hpp"

namespace stepq::charts {

namespace {

using parts::base;
using parts::bin_note;
using parts::kSchema;
using parts::kWide;
using parts::ojson;
using parts::time_unit;
using parts::time_x;
using parts::unit_name;

// Rows {t, link, value, ...extra} of one series of timeline.links, t at the middle of its bin in
// unit_s: the same placing as the pools' and clusters' series, so the charts line up.
void add_rows(ojson& rows, const ojson& tl, const std::string& link, const std::string& series, const ojson& extra) {
  const auto& t = tl["t_s"];
  const auto& v = tl["links"][link][series];
  const double bin = tl["bin_s"].get<double>(), u = time_unit(tl);
  for (std::size_t i = 0; i < t.size() && i < v.size(); ++i) {
    ojson row = {{"t", (t[i].get<double>() + bin / 2) / u}, {"link", link}, {"value", v[i]}};
    for (const auto& [k, x] : extra.items()) row[k] = x;
    rows.push_back(row);
  }
}

}  // namespace

ojson link_queue_over_time(const ojson& r, const std::string& time_title) {
  if (!parts::has_timeline(r, "links")) return nullptr;
  const ojson& tl = r["timeline"];
  ojson rows = ojson::array(), order = ojson::array();
  for (const auto& [name, l] : r["links"].items()) {
    if (!tl["links"].contains(name)) continue;
    const bool capped = l.contains("max_active");
    const std::string row = name + ": " +
                            (capped ? "at most " + std::to_string(l["max_active"].get<int>()) + " active, " +
                                          format::fmt("%.3g", l["queue"]["mean"].get<double>()) + " waiting on average"
                                    : std::string("no cap, none waits"));
    order.push_back(row);
    const ojson cap = capped ? ojson(l["max_active"]) : ojson(nullptr);
    // `stack` puts the moving transfers at the bottom, where the cap's rule measures them.
    add_rows(rows, tl, name, "active", {{"row", row}, {"state", "active (moving)"}, {"stack", 0}, {"cap", cap}});
    add_rows(rows, tl, name, "queued", {{"row", row}, {"state", "waiting for a slot"}, {"stack", 1}, {"cap", cap}});
  }
  if (rows.empty()) return nullptr;
  ojson layer = ojson::array();
  layer.push_back(
      {{"mark", {{"type", "area"}, {"interpolate", "step-after"}, {"opacity", 0.85}}},
       {"encoding",
        {{"x", time_x(tl, time_title)},
         {"y", {{"field", "value"}, {"type", "quantitative"}, {"stack", "zero"}, {"title", "transfers"}}},
         {"color",
          {{"field", "state"},
           {"type", "nominal"},
           {"title", nullptr},
           {"scale", {{"domain", {"active (moving)", "waiting for a slot"}}, {"range", {"#6baed6", "#fd8d3c"}}}}}},
         {"order", {{"field", "stack"}, {"type", "quantitative"}}},
         {"tooltip",
          {{{"field", "link"}},
           {{"field", "state"}},
           {{"field", "t"}, {"format", ".4~g"}},
           {{"field", "value"}, {"title", "transfers (mean)"}, {"format", ".4~g"}}}}}}});
  // FTS's max_active: where the active band meets it, newcomers queue.
  layer.push_back({{"transform", {{{"filter", "isValid(datum.cap)"}}}},
                   {"mark", {{"type", "rule"}, {"color", "#444"}, {"strokeDash", {4, 3}}}},
                   {"encoding", {{"y", {{"field", "cap"}, {"type", "quantitative"}, {"aggregate", "max"}}}}}});
  return {{"$schema", kSchema},
          {"title",
           {{"text", "Transfers active and waiting for an FTS slot, by link"},
            {"subtitle", bin_note(tl) + "; dashed line: the link's max_active"}}},
          {"data", {{"values", rows}}},
          {"facet", parts::row_facet("row", order)},
          {"spec", {{"width", kWide}, {"height", 70}, {"layer", layer}}},
          {"resolve", {{"scale", {{"y", "independent"}}}}},
          {"spacing", 6}};
}

ojson link_throughput_over_time(const ojson& r, const std::string& time_title) {
  if (!parts::has_timeline(r, "links")) return nullptr;
  const ojson& tl = r["timeline"];
  ojson rows = ojson::array(), names = ojson::array();
  for (const auto& [name, l] : r["links"].items()) {
    names.push_back(name);
    if (tl["links"].contains(name)) add_rows(rows, tl, name, "MBps", {{"bandwidth", l["bandwidth_MBps"]}});
  }
  if (rows.empty()) return nullptr;
  ojson spec = base("", kWide, 160);
  spec["title"] = {{"text", "Throughput by link, MB/s"},
                   {"subtitle", bin_note(tl) + "; a transfer's bytes count evenly over the time they moved"}};
  spec["data"] = {{"values", rows}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 1.5}};
  spec["encoding"] = {
      {"x", time_x(tl, time_title)},
      {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", "MB/s (mean)"}}},
      // every link in the domain, so that a link has one colour whatever it carried
      {"color", {{"field", "link"}, {"type", "nominal"}, {"title", "link"}, {"scale", {{"domain", names}}}}},
      {"tooltip",
       {{{"field", "link"}},
        {{"field", "t"}, {"format", ".4~g"}},
        {{"field", "value"}, {"title", "MB/s"}, {"format", ".4~g"}},
        {{"field", "bandwidth"}, {"title", "the link's MB/s"}}}}};
  return spec;
}

}  // namespace stepq::charts
