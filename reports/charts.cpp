#include "charts.hpp"

#include <algorithm>
#include <cmath>

#include "chart_parts.hpp"
#include "reports/format.hpp"

namespace stepq::charts {

namespace {

using parts::base;
using parts::bin_note;
using parts::kHalf;
using parts::kSchema;
using parts::kWide;
using parts::time_unit;
using parts::unit_name;

// Quantile colours, the same in every chart: p50 blue, p95 orange, p99 red; the estimate grey.
const ojson kQuantileScale = {{"domain", {"p50", "p95", "p99", "broker estimate"}},
                              {"range", {"#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f"}}};

ojson quantile_marks(const ojson& startup, double estimate_s) {
  ojson v = ojson::array();
  for (const char* q : {"p50", "p95", "p99"})
    if (startup.contains(q) && startup[q].is_number()) {
      ojson row = {{"what", q}, {"s", startup[q]}};
      if (startup.contains("ci95") && startup["ci95"].contains(q)) row["ci95"] = startup["ci95"][q];
      v.push_back(row);
    }
  if (estimate_s > 0) v.push_back({{"what", "broker estimate"}, {"s", estimate_s}});
  return v;
}

// Vertical rules at the quantiles, labelled at the top.
ojson rule_layers(const ojson& marks) {
  const ojson color = {{"field", "what"}, {"type", "nominal"}, {"scale", kQuantileScale}, {"legend", nullptr}};
  ojson rule = {
      {"data", {{"values", marks}}},
      {"mark", {{"type", "rule"}, {"strokeWidth", 2}}},
      {"encoding",
       {{"x", {{"field", "s"}, {"type", "quantitative"}}},
        {"color", color},
        {"strokeDash",
         {{"condition", {{"test", "datum.what === 'broker estimate'"}, {"value", {6, 3}}}}, {"value", {1, 0}}}},
        {"tooltip",
         {{{"field", "what"}, {"title", "marker"}}, {{"field", "s"}, {"title", "seconds"}, {"format", ".4~g"}}}}}}};
  ojson label = {
      {"data", {{"values", marks}}},
      {"mark", {{"type", "text"}, {"align", "left"}, {"dx", 3}, {"baseline", "top"}, {"fontWeight", "bold"}}},
      {"encoding",
       {{"x", {{"field", "s"}, {"type", "quantitative"}}},
        {"y", {{"value", 0}}},
        {"yOffset",
         {{"field", "what"},
          {"type", "nominal"},
          {"sort", {"p50", "p95", "p99", "broker estimate"}},
          {"scale", {{"range", {2, 58}}}}}},
        {"text", {{"field", "what"}}},
        {"color", color}}}};
  return ojson::array({rule, label});
}

// A log axis labelled at 1, 2, 5 × 10^k only: Vega's own choice crowds labels together.
ojson log_x(const std::string& field, const std::string& title, const ojson& domain) {
  ojson ticks = ojson::array();
  const double lo = domain[0].get<double>(), hi = domain[1].get<double>();
  for (double d = std::pow(10.0, std::floor(std::log10(lo))); lo > 0 && d <= hi; d *= 10)  // d = 0 if lo = 0
    for (double m : {1.0, 2.0, 5.0})
      if (m * d >= lo && m * d <= hi) ticks.push_back(m * d);
  return {{"field", field},
          {"type", "quantitative"},
          {"title", title},
          {"scale", {{"type", "log"}, {"domain", domain}, {"nice", false}}},
          {"axis", {{"format", "~g"}, {"grid", true}, {"values", ticks}}}};
}

}  // namespace

ojson startup_histogram(const ojson& startup, double estimate_s) {
  const ojson& h = startup.value("histogram", ojson::object());
  if (!h.contains("sessions") || h["sessions"].empty()) return nullptr;
  ojson bars = ojson::array();
  std::uint64_t total = 0;
  for (const auto& c : h["sessions"]) total += c.get<std::uint64_t>();
  for (std::size_t i = 0; i < h["sessions"].size(); ++i) {
    const double n = h["sessions"][i].get<double>();
    bars.push_back({{"from_s", h["edges_s"][i]},
                    {"to_s", h["edges_s"][i + 1]},
                    {"sessions", n},
                    {"share", total ? n / static_cast<double>(total) : 0.0}});
  }
  const ojson marks = quantile_marks(startup, estimate_s);
  double lo = h["edges_s"].front(), hi = h["edges_s"].back();
  // A quantile of 0 s (no session waited) has no place on a log axis: it would make the domain
  // start at 0, where log_x's ticks never end.
  for (const auto& m : marks)
    if (m["s"].get<double>() > 0)
      lo = std::min(lo, m["s"].get<double>() / 1.2), hi = std::max(hi, m["s"].get<double>() * 1.2);
  ojson spec = base("How many sessions took how long to start", kHalf, 240);
  ojson layers = ojson::array();
  layers.push_back({{"data", {{"values", bars}}},
                    {"mark", {{"type", "rect"}, {"color", "#9ecae1"}, {"stroke", "white"}, {"strokeWidth", 0.5}}},
                    {"encoding",
                     {{"x", log_x("from_s", "start-up time, s (log scale)", {lo, hi})},
                      {"x2", {{"field", "to_s"}}},
                      {"y", {{"field", "sessions"}, {"type", "quantitative"}, {"title", "sessions"}}},
                      {"tooltip",
                       {{{"field", "from_s"}, {"title", "from (s)"}, {"format", ".4~g"}},
                        {{"field", "to_s"}, {"title", "to (s)"}, {"format", ".4~g"}},
                        {{"field", "sessions"}, {"format", ","}},
                        {{"field", "share"}, {"format", ".2%"}}}}}}});
  for (auto& l : rule_layers(marks)) layers.push_back(l);
  spec["layer"] = layers;
  return spec;
}

ojson startup_cdf(const ojson& startup) {
  const ojson& h = startup.value("histogram", ojson::object());
  if (!h.contains("sessions") || h["sessions"].empty()) return nullptr;
  std::uint64_t total = 0;
  for (const auto& c : h["sessions"]) total += c.get<std::uint64_t>();
  if (total == 0) return nullptr;
  ojson points = ojson::array({{{"s", h["edges_s"][0]}, {"share", 0.0}}});
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < h["sessions"].size(); ++i) {
    seen += h["sessions"][i].get<std::uint64_t>();
    points.push_back({{"s", h["edges_s"][i + 1]}, {"share", static_cast<double>(seen) / static_cast<double>(total)}});
  }
  const ojson marks = quantile_marks(startup, 0);
  ojson qpoints = ojson::array();
  for (const auto& m : marks)
    qpoints.push_back({{"what", m["what"]},
                       {"s", m["s"]},
                       {"share", std::stod(m["what"].get<std::string>().substr(1)) / 100},
                       {"label", m["what"].get<std::string>() + " " + [&] {
                          char b[32];
                          std::snprintf(b, sizeof b, "%.4g s", m["s"].get<double>());
                          return std::string(b);
                        }()}});
  const ojson domain = {h["edges_s"].front(), h["edges_s"].back()};
  ojson spec = base("Share of sessions started within a time", kHalf, 240);
  const ojson color = {{"field", "what"}, {"type", "nominal"}, {"scale", kQuantileScale}, {"legend", nullptr}};
  spec["layer"] = ojson::array(
      {{{"data", {{"values", points}}},
        {"mark", {{"type", "line"}, {"color", "#3182bd"}, {"strokeWidth", 2}}},
        {"encoding",
         {{"x", log_x("s", "start-up time, s (log scale)", domain)},
          {"y",
           {{"field", "share"},
            {"type", "quantitative"},
            {
                "title",
                "sessions started",
            },
            {"axis", {{"format", "%"}}},
            {"scale", {{"domain", {0, 1}}}}}},
          {"tooltip",
           {{{"field", "s"}, {"title", "within (s)"}, {"format", ".4~g"}}, {{"field", "share"}, {"format", ".2%"}}}}}}},
       {{"data", {{"values", qpoints}}},
        {"mark", {{"type", "rule"}, {"strokeDash", {4, 3}}}},
        {"encoding",
         {{"x", {{"field", "s"}, {"type", "quantitative"}}},
          {"y", {{"field", "share"}, {"type", "quantitative"}}},
          {"y2", {{"datum", 0}}},
          {"color", color}}}},
       {{"data", {{"values", qpoints}}},
        {"mark", {{"type", "point"}, {"filled", true}, {"size", 60}}},
        {"encoding",
         {{"x", {{"field", "s"}, {"type", "quantitative"}}},
          {"y", {{"field", "share"}, {"type", "quantitative"}}},
          {"color", color},
          {"tooltip", {{{"field", "label"}, {"title", "quantile"}}}}}}},
       // p99 above-left of its point, the others below-right: where the curve is not.
       {{"data", {{"values", qpoints}}},
        {"transform", {{{"filter", "datum.what === 'p99'"}}}},
        {"mark", {{"type", "text"}, {"align", "right"}, {"dx", -8}, {"dy", -4}, {"fontWeight", "bold"}}},
        {"encoding",
         {{"x", {{"field", "s"}, {"type", "quantitative"}}},
          {"y", {{"field", "share"}, {"type", "quantitative"}}},
          {"text", {{"field", "label"}}},
          {"color", color}}}},
       {{"data", {{"values", qpoints}}},
        {"transform", {{{"filter", "datum.what !== 'p99'"}}}},
        {"mark", {{"type", "text"}, {"align", "left"}, {"dx", 8}, {"dy", 10}, {"fontWeight", "bold"}}},
        {"encoding",
         {{"x", {{"field", "s"}, {"type", "quantitative"}}},
          {"y", {{"field", "share"}, {"type", "quantitative"}}},
          {"text", {{"field", "label"}}},
          {"color", color}}}}});
  return spec;
}

ojson startup_split(const ojson& startup) {
  if (!startup.contains("split")) return nullptr;
  const ojson& sp = startup["split"];
  // In the order a session meets them; colours apart from the quantiles' and the pools'.
  struct Part {
    const char *key, *name, *color;
  };
  static const Part kParts[] = {{"pending", "Pending (waiting for cluster capacity)", "#756bb1"},
                                {"queue_wait", "queue waits (READY, no thread free)", "#e6550d"},
                                {"service", "service (steps running)", "#74c476"},
                                {"other", "other (start latency, poll lag, back-offs)", "#bdbdbd"}};
  double total = 0;
  for (const auto& p : kParts) total += sp.value(p.key, 0.0);
  if (!(total > 0)) return nullptr;
  ojson rows = ojson::array(), labels = ojson::array(), colors = ojson::array();
  double from = 0;
  for (const auto& p : kParts) {
    const double s = sp.value(p.key, 0.0);
    if (!(s > 0)) continue;  // a part that took no time (Pending without clusters) would only crowd the legend
    const double share = s / total;
    const std::string label = std::string(p.name) + ": " + format::sec(s) + " s, " +
                              (share >= 0.01 ? format::fmt("%.0f%%", 100 * share) : "<1%");
    rows.push_back({{"part", p.key},
                    {"name", p.name},
                    {"label", label},
                    {"seconds", s},
                    {"share", share},
                    {"from", from},
                    {"to", from + s},
                    {"mid", from + s / 2}});
    labels.push_back(label);
    colors.push_back(p.color);
    from += s;
  }
  ojson spec = base("", kWide, 36);
  spec["title"] = {{"text", "Where start-up went: " + format::sec(total) + " s per started session on average"},
                   {"subtitle", "mean seconds along each session's critical path; the parts add up to the mean"}};
  const ojson x_scale = {{"domain", {0, total}}, {"nice", false}};
  spec["layer"] =
      ojson::array({{{"data", {{"values", rows}}},
                     {"mark", {{"type", "rect"}, {"stroke", "white"}, {"strokeWidth", 1}}},
                     {"encoding",
                      {{"x",
                        {{"field", "from"},
                         {"type", "quantitative"},
                         {"title", "seconds (mean per started session)"},
                         {"scale", x_scale}}},
                       {"x2", {{"field", "to"}}},
                       {"color",
                        {{"field", "label"},
                         {"type", "nominal"},
                         {"scale", {{"domain", labels}, {"range", colors}}},
                         {"legend", {{"title", nullptr}, {"orient", "bottom"}, {"columns", 2}, {"labelLimit", 340}}}}},
                       {"tooltip",
                        {{{"field", "name"}, {"title", "part"}},
                         {{"field", "seconds"}, {"format", ".4~g"}},
                         {{"field", "share"}, {"format", ".1%"}}}}}}},
                    // The share inside a segment wide enough to hold it; the legend has every part's.
                    {{"data", {{"values", rows}}},
                     {"transform", {{{"filter", "datum.share >= 0.06"}}}},
                     {"mark", {{"type", "text"}, {"color", "white"}, {"fontWeight", "bold"}}},
                     {"encoding",
                      {{"x", {{"field", "mid"}, {"type", "quantitative"}, {"scale", x_scale}}},
                       {"y", {{"value", 18}}},
                       {"text", {{"field", "share"}, {"type", "quantitative"}, {"format", ".0%"}}}}}}});
  return spec;
}

ojson per_kind(const ojson& kinds, const std::string& what, const std::string& title) {
  ojson rows = ojson::array(), theory = ojson::array();
  ojson order = ojson::array();
  for (const auto& [name, k] : kinds.items()) {
    if (!k.contains(what)) continue;
    order.push_back(name);
    for (const char* stat : {"mean", "p95"})
      if (k[what].contains(stat) && k[what][stat].is_number())
        rows.push_back({{"kind", name}, {"statistic", stat}, {"seconds", k[what][stat]}});
    if (what == "wait_s" && k.contains("analytic") && k["analytic"]["wait_s"].is_object())
      for (const char* stat : {"mean", "p95"})
        theory.push_back({{"kind", name},
                          {"statistic", stat},
                          {"seconds", k["analytic"]["wait_s"][stat]},
                          {"model", k["analytic"]["model"]}});
  }
  if (rows.empty()) return nullptr;
  double most = 0;
  for (const auto* set : {&rows, &theory})
    for (const auto& r : *set) most = std::max(most, r["seconds"].is_number() ? r["seconds"].get<double>() : 0.0);
  ojson spec = base(title, kHalf, 0);
  spec["height"] = {{"step", 14}};
  const ojson y = {{"field", "kind"}, {"type", "nominal"}, {"sort", order}, {"title", nullptr}};
  const ojson off = {{"field", "statistic"}, {"type", "nominal"}, {"sort", {"mean", "p95"}}};
  const ojson color = {{"field", "statistic"},
                       {"type", "nominal"},
                       {"sort", {"mean", "p95"}},
                       {"scale", {{"range", {"#6baed6", "#08519c"}}}},
                       {"legend", {{"title", nullptr}, {"orient", "bottom"}}}};
  ojson layers = ojson::array();
  layers.push_back(
      {{"data", {{"values", rows}}},
       {"mark", "bar"},
       {"encoding",
        {{"y", y},
         {"yOffset", off},
         {"x",
          {{"field", "seconds"},
           {"type", "quantitative"},
           {"title", "seconds"},
           // room for the value printed after the longest bar
           {"scale", {{"domain", {0, most > 0 ? most * 1.2 : 1.0}}}}}},
         {"color", color},
         {"tooltip", {{{"field", "kind"}}, {{"field", "statistic"}}, {{"field", "seconds"}, {"format", ".4~g"}}}}}}});
  layers.push_back({{"data", {{"values", rows}}},
                    {"mark", {{"type", "text"}, {"align", "left"}, {"dx", 3}, {"fontSize", 10}}},
                    {"encoding",
                     {{"y", y},
                      {"yOffset", off},
                      {"x", {{"field", "seconds"}, {"type", "quantitative"}}},
                      {"text", {{"field", "seconds"}, {"type", "quantitative"}, {"format", ".3~g"}}}}}});
  if (!theory.empty())
    layers.push_back({{"data", {{"values", theory}}},
                      {"mark", {{"type", "tick"}, {"color", "black"}, {"thickness", 2}}},
                      {"encoding",
                       {{"y", y},
                        {"yOffset", off},
                        {"x", {{"field", "seconds"}, {"type", "quantitative"}}},
                        {"tooltip",
                         {{{"field", "kind"}},
                          {{"field", "statistic"}},
                          {{"field", "model"}, {"title", "queueing theory"}},
                          {{"field", "seconds"}, {"format", ".4~g"}}}}}}});
  spec["layer"] = layers;
  if (!theory.empty()) spec["title"] = {{"text", title}, {"subtitle", "black tick: queueing theory (stepq analyze)"}};
  return spec;
}

ojson utilization(const ojson& pools) {
  ojson rows = ojson::array(), theory = ojson::array(), order = ojson::array();
  for (const auto& [name, p] : pools.items()) {
    const std::string label = name + " (" + std::to_string(p["threads"].get<int>()) + " thr)";
    order.push_back(label);
    rows.push_back({{"pool", label}, {"utilization", p["utilization"]}});
    if (p.contains("analytic") && p["analytic"]["utilization"].is_number())
      theory.push_back({{"pool", label}, {"utilization", p["analytic"]["utilization"]}});
  }
  if (rows.empty()) return nullptr;
  ojson spec = base("Utilization: share of thread time busy", kHalf, 0);
  spec["height"] = {{"step", 20}};
  const ojson y = {{"field", "pool"}, {"type", "nominal"}, {"sort", order}, {"title", nullptr}};
  const ojson x = {{"field", "utilization"},
                   {"type", "quantitative"},
                   {"title", "utilization"},
                   {"axis", {{"format", "%"}}},
                   {"scale", {{"domain", {0, 1}}, {"clamp", true}}}};
  ojson layers = ojson::array();
  layers.push_back(
      {{"data", {{"values", rows}}},
       {"mark", {{"type", "bar"}, {"color", "#74c476"}}},
       {"encoding",
        {{"y", y}, {"x", x}, {"tooltip", {{{"field", "pool"}}, {{"field", "utilization"}, {"format", ".1%"}}}}}}});
  layers.push_back(
      {{"data", {{"values", rows}}},
       {"mark", {{"type", "text"}, {"align", "left"}, {"dx", 3}, {"fontSize", 10}}},
       {"encoding",
        {{"y", y}, {"x", x}, {"text", {{"field", "utilization"}, {"type", "quantitative"}, {"format", ".0%"}}}}}});
  if (!theory.empty()) {
    layers.push_back(
        {{"data", {{"values", theory}}},
         {"mark", {{"type", "tick"}, {"color", "black"}, {"thickness", 2}}},
         {"encoding",
          {{"y", y},
           {"x", x},
           {"tooltip",
            {{{"field", "pool"}}, {{"field", "utilization"}, {"title", "queueing theory"}, {"format", ".1%"}}}}}}});
    spec["title"] = {{"text", spec["title"]}, {"subtitle", "black tick: queueing theory (stepq analyze)"}};
  }
  spec["layer"] = layers;
  return spec;
}

namespace {
// Rows {t, series, value} of one level of a timeline, times in the unit the title names.
ojson timeline_rows(const ojson& tl, const char* level, double unit_s) {
  ojson rows = ojson::array();
  const auto& t = tl["t_s"];
  const double bin = tl["bin_s"].get<double>();
  for (const auto& [name, s] : tl["series"].items())
    for (std::size_t i = 0; i < t.size() && i < s[level].size(); ++i)
      rows.push_back({{"t", (t[i].get<double>() + bin / 2) / unit_s}, {"series", name}, {"value", s[level][i]}});
  return rows;
}
}  // namespace

ojson ready_over_time(const ojson& tl, const std::string& time_title) {
  if (!tl.is_object() || tl["t_s"].empty()) return nullptr;
  const double u = time_unit(tl);
  ojson spec = base("READY steps waiting for a thread", kWide, 200);
  spec["title"] = {{"text", "READY steps waiting for a thread, by " + tl["by"].get<std::string>()},
                   {"subtitle", bin_note(tl)}};
  spec["data"] = {{"values", timeline_rows(tl, "ready", u)}};
  spec["mark"] = {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 1.5}};
  spec["encoding"] = {
      {"x", {{"field", "t"}, {"type", "quantitative"}, {"title", time_title + " (" + unit_name(u) + ")"}}},
      {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", "READY steps (mean)"}}},
      {"color", {{"field", "series"}, {"type", "nominal"}, {"title", tl["by"]}}},
      {"tooltip",
       {{{"field", "series"}}, {{"field", "t"}, {"format", ".4~g"}}, {{"field", "value"}, {"title", "READY"}}}}};
  return spec;
}

ojson busy_over_time(const ojson& tl, const ojson& threads, const std::string& time_title) {
  if (!tl.is_object() || tl["t_s"].empty()) return nullptr;
  const double u = time_unit(tl);
  ojson rows = timeline_rows(tl, "busy", u);
  for (auto& r : rows) {
    const std::string s = r["series"];
    if (threads.contains(s)) r["threads"] = threads[s];
  }
  ojson order = ojson::array();
  for (const auto& [name, s] : tl["series"].items()) order.push_back(name);
  const ojson x = {{"field", "t"}, {"type", "quantitative"}, {"title", time_title + " (" + unit_name(u) + ")"}};
  ojson layer = ojson::array();
  layer.push_back({{"mark", {{"type", "area"}, {"interpolate", "step-after"}, {"color", "#fd8d3c"}, {"opacity", 0.7}}},
                   {"encoding",
                    {{"x", x},
                     {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", "busy"}}},
                     {"tooltip",
                      {{{"field", "series"}},
                       {{"field", "t"}, {"format", ".4~g"}},
                       {{"field", "value"}, {"title", "busy threads"}},
                       {{"field", "threads"}}}}}}});
  if (!threads.empty())
    layer.push_back({{"mark", {{"type", "rule"}, {"color", "#444"}, {"strokeDash", {4, 3}}}},
                     {"encoding", {{"y", {{"field", "threads"}, {"type", "quantitative"}, {"aggregate", "max"}}}}}});
  ojson spec = {{"$schema", kSchema},
                {"title",
                 {{"text", "Threads running a step, by " + tl["by"].get<std::string>()},
                  {"subtitle", bin_note(tl) + (threads.empty() ? "" : "; dashed line: the pool's threads")}}},
                {"data", {{"values", rows}}},
                {"facet", parts::row_facet("series", order)},
                {"spec", {{"width", kWide}, {"height", 48}, {"layer", layer}}},
                {"resolve", {{"scale", {{"y", "independent"}}}}},
                {"spacing", 6}};
  return spec;
}

ojson tune_path(const ojson& t) {
  const auto& path = t["search"]["path"];
  if (path.empty()) return nullptr;
  ojson rows = ojson::array(), targets = ojson::array();
  for (std::size_t i = 0; i < path.size(); ++i) {
    std::string cfg;
    for (const auto& [pool, n] : path[i]["threads"].items())
      cfg += (cfg.empty() ? "" : " ") + pool + "=" + std::to_string(n.get<int>());
    for (const auto& [name, v] : path[i]["values"].items())
      rows.push_back({{"step", i},
                      {"threads", path[i]["total_threads"]},
                      {"target", name},
                      {"seconds", v},
                      {"action", path[i]["action"]},
                      {"config", cfg}});
  }
  for (const auto& [name, v] : t["targets"].items()) targets.push_back({{"target", name}, {"seconds", v}});
  ojson spec = base("Search path: threads bought against the target quantity", kHalf, 260);
  spec["title"] = {{"text", "Search path: threads against the target quantity"},
                   {"subtitle", "one point per configuration simulated on the path; dashed: the target"}};
  const ojson color = {
      {"field", "target"}, {"type", "nominal"}, {"title", "target"}, {"legend", {{"orient", "bottom"}}}};
  spec["layer"] =
      ojson::array({{{"data", {{"values", rows}}},
                     {"mark", {{"type", "line"}, {"point", {{"filled", true}, {"size", 50}}}}},
                     {"encoding",
                      {{"x",
                        {{"field", "threads"},
                         {"type", "quantitative"},
                         {"title", "threads, all pools"},
                         {"scale", {{"zero", false}}},
                         {"axis", {{"tickMinStep", 1}}}}},
                       {"y", {{"field", "seconds"}, {"type", "quantitative"}, {"title", "seconds"}}},
                       {"order", {{"field", "step"}}},
                       {"color", color},
                       {"tooltip",
                        {{{"field", "step"}},
                         {{"field", "action"}},
                         {{"field", "config"}},
                         {{"field", "target"}},
                         {{"field", "seconds"}, {"format", ".4~g"}}}}}}},
                    {{"data", {{"values", targets}}},
                     {"mark", {{"type", "rule"}, {"strokeDash", {6, 3}}}},
                     {"encoding", {{"y", {{"field", "seconds"}, {"type", "quantitative"}}}, {"color", color}}}}});
  return spec;
}

ojson tune_rates(const ojson& t) {
  if (!t.contains("rates")) return nullptr;
  ojson rows = ojson::array();
  for (const auto& l : t["rates"]) {
    if (!l.contains("values")) continue;
    for (const auto& [name, v] : l["values"].items())
      rows.push_back({{"rate", l["rate_per_s"]},
                      {"factor", l["rate_factor"]},
                      {"quantity", name + " (s)"},
                      {"value", v},
                      {"met", l["met"]}});
    rows.push_back({{"rate", l["rate_per_s"]},
                    {"factor", l["rate_factor"]},
                    {"quantity", "threads needed"},
                    {"value", l["total_threads"]},
                    {"met", l["met"]}});
  }
  if (rows.empty()) return nullptr;
  const double max_rate = t["max_rate_within_target"]["rate_per_s"];
  ojson spec = {
      {"$schema", kSchema},
      {"title",
       {{"text", "By load level (--rates)"},
        {"subtitle", "dashed: the highest rate the chosen configuration sustains within target"}}},
      {"data", {{"values", rows}}},
      {"facet", {{"column", {{"field", "quantity"}, {"type", "nominal"}, {"title", nullptr}}}}},
      {"spec",
       {{"width", 250},
        {"height", 200},
        {"layer",
         ojson::array({{{"mark", {{"type", "line"}, {"point", {{"filled", true}, {"size", 60}}}}},
                        {"encoding",
                         {{"x", {{"field", "rate"}, {"type", "quantitative"}, {"title", "arrival rate (sessions/s)"}}},
                          {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", nullptr}}},
                          {"tooltip",
                           {{{"field", "factor"}, {"title", "x scenario rate"}},
                            {{"field", "rate"}},
                            {{"field", "value"}, {"format", ".4~g"}},
                            {{"field", "met"}}}}}}},
                       {{"mark", {{"type", "rule"}, {"strokeDash", {6, 3}}, {"color", "#444"}}},
                        {"encoding", {{"x", {{"datum", max_rate}, {"type", "quantitative"}}}}}}})}}},
      {"resolve", {{"scale", {{"y", "independent"}}}}}};
  return spec;
}

}  // namespace stepq::charts
