#include "cluster_charts.hpp"

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

// Rows {t, cluster, value} of one level of timeline.clusters, t at the middle of its bin, in
// unit_s (the same placing as the pools' series, so the charts line up).
void add_rows(ojson& rows, const ojson& tl, const std::string& cluster, const std::string& level, double unit_s,
              const ojson& extra = ojson::object()) {
  const auto& t = tl["t_s"];
  const auto& v = tl["clusters"][cluster][level];
  const double bin = tl["bin_s"].get<double>();
  for (std::size_t i = 0; i < t.size() && i < v.size(); ++i) {
    ojson row = {{"t", (t[i].get<double>() + bin / 2) / unit_s}, {"cluster", cluster}, {"value", v[i]}};
    for (const auto& [k, x] : extra.items()) row[k] = x;
    rows.push_back(row);
  }
}

// One line per cluster of `level`, for the clusters `keep` accepts.
template <class Keep>
ojson lines(const ojson& r, const std::string& level, const std::string& time_title, const ojson& title,
            const std::string& y_title, Keep keep) {
  const ojson& tl = r["timeline"];
  const double u = time_unit(tl);
  ojson rows = ojson::array(), names = ojson::array();
  for (const auto& [name, c] : r["clusters"].items()) {
    names.push_back(name);
    if (tl["clusters"].contains(name) && keep(tl["clusters"][name][level])) add_rows(rows, tl, name, level, u);
  }
  if (rows.empty()) return nullptr;
  ojson spec = base("", kWide, 160);
  spec["title"] = title;
  spec["data"] = {{"values", rows}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 1.5}};
  spec["encoding"] = {
      {"x", time_x(tl, time_title)},
      {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", y_title}}},
      // every cluster in the domain, so that a cluster has one colour in every chart
      {"color", {{"field", "cluster"}, {"type", "nominal"}, {"title", "cluster"}, {"scale", {{"domain", names}}}}},
      {"tooltip",
       {{{"field", "cluster"}},
        {{"field", "t"}, {"format", ".4~g"}},
        {{"field", "value"}, {"title", y_title}, {"format", ".4~g"}}}}};
  return spec;
}

}  // namespace

ojson cluster_usage_over_time(const ojson& r, const std::string& level, const std::string& time_title) {
  if (!parts::has_timeline(r, "clusters")) return nullptr;
  const ojson& tl = r["timeline"];
  const bool cores = level == "cores";
  const std::string unit = cores ? "cores" : "GB";
  const double u = time_unit(tl);
  ojson rows = ojson::array(), order = ojson::array();
  for (const auto& [name, c] : r["clusters"].items()) {
    if (!tl["clusters"].contains(name)) continue;
    // clusters.C.cores and .memory_GB are the totals, under the same keys as the series.
    const double total = c[level].get<double>();
    const double used = c["utilization"][cores ? "cores" : "memory"].get<double>();
    const std::string row = name + ": " + format::fmt("%g", total) + " " + unit + ", " +
                            format::fmt("%.0f%%", 100 * used) + " in use on average";
    order.push_back(row);
    add_rows(rows, tl, name, level, u, {{"row", row}, {"total", total}});
  }
  if (rows.empty()) return nullptr;
  const std::string what = cores ? "cores in use" : "memory in use, GB";
  ojson layer = ojson::array();
  layer.push_back(
      {{"mark",
        {{"type", "area"}, {"interpolate", "step-after"}, {"color", cores ? "#9e9ac8" : "#9ecae1"}, {"opacity", 0.8}}},
       {"encoding",
        {{"x", time_x(tl, time_title)},
         {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", cores ? "cores" : "GB"}}},
         {"tooltip",
          {{{"field", "cluster"}},
           {{"field", "t"}, {"format", ".4~g"}},
           {{"field", "value"}, {"title", what}, {"format", ".4~g"}},
           {{"field", "total"}, {"title", "the cluster's " + unit}}}}}}});
  // The cluster's size: where the area meets it, sessions can only wait.
  layer.push_back({{"mark", {{"type", "rule"}, {"color", "#444"}, {"strokeDash", {4, 3}}}},
                   {"encoding", {{"y", {{"field", "total"}, {"type", "quantitative"}, {"aggregate", "max"}}}}}});
  return {{"$schema", kSchema},
          {"title",
           {{"text", std::string(cores ? "Cores" : "Memory") + " in use, by cluster"},
            {"subtitle", bin_note(tl) + "; dashed line: the cluster's " + (cores ? "cores" : "memory")}}},
          {"data", {{"values", rows}}},
          {"facet", parts::row_facet("row", order)},
          {"spec", {{"width", kWide}, {"height", 70}, {"layer", layer}}},
          {"resolve", {{"scale", {{"y", "independent"}}}}},
          {"spacing", 6}};
}

ojson cluster_queue_over_time(const ojson& r, const std::string& time_title) {
  if (!parts::has_timeline(r, "clusters")) return nullptr;
  const ojson title = {{"text", "Sessions Pending in the admission queue, by cluster"},
                       {"subtitle", bin_note(r["timeline"]) + "; a session waits here from its launch until "
                                                              "the cluster has room for it"}};
  return lines(r, "queued", time_title, title, "sessions queued (mean)", [](const ojson&) { return true; });
}

ojson cluster_refused_over_time(const ojson& r, const std::string& time_title) {
  if (!parts::has_timeline(r, "clusters")) return nullptr;
  const ojson title = {
      {"text", "Launches refused by the per-user limit, cumulative"},
      {"subtitle", "the running count since the start of the run, not per bin; " + bin_note(r["timeline"])}};
  auto refused_any = [](const ojson& v) {
    for (const auto& x : v)
      if (x.get<double>() > 0) return true;
    return false;
  };
  return lines(r, "refused", time_title, title, "launches refused so far", refused_any);
}

}  // namespace stepq::charts
