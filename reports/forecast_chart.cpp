#include "forecast_chart.hpp"

#include "chart_parts.hpp"

namespace stepq::charts {

using ojson = nlohmann::ordered_json;

ojson forecast_fan(const ojson& f) {
  ojson rows = ojson::array();
  const auto row = [&](const std::string& label, const ojson& q, double age) {
    if (!q["p50"].is_number()) return;  // failed in every replication: no start-up to draw
    ojson r = {{"session", label}, {"age", age}};
    for (const char* k : {"p05", "p25", "p50", "p75", "p95"}) r[k] = q[k];
    rows.push_back(r);
  };
  for (const auto& s : f["sessions"]) row(std::to_string(s["id"].get<std::uint64_t>()), s["startup_s"], s["age_s"]);
  row("new", f["new_session"]["startup_s"], 0);
  if (rows.empty()) return nullptr;
  ojson spec = parts::base("Forecast start-up of each session in start-up, and of a new one (last)", parts::kWide, 280);
  spec["data"] = {{"values", rows}};
  const ojson y_title = "start-up from acceptance, s";
  spec["encoding"] = {{"x",
                       {{"field", "session"},
                        {"type", "ordinal"},
                        {"sort", nullptr},
                        {"title", "session (oldest first)"},
                        {"axis", {{"labelOverlap", true}}}}}};
  spec["layer"] = ojson::array(
      {{{"mark", {{"type", "bar"}, {"color", "#9ecae1"}}},
        {"encoding",
         {{"y", {{"field", "p05"}, {"type", "quantitative"}, {"title", y_title}}}, {"y2", {{"field", "p95"}}}}}},
       {{"mark", {{"type", "bar"}, {"color", "#4292c6"}}},
        {"encoding", {{"y", {{"field", "p25"}, {"type", "quantitative"}}}, {"y2", {{"field", "p75"}}}}}},
       {{"mark", {{"type", "tick"}, {"color", "#08306b"}, {"thickness", 2}}},
        {"encoding", {{"y", {{"field", "p50"}, {"type", "quantitative"}}}}}},
       {{"mark", {{"type", "point"}, {"shape", "triangle-up"}, {"color", "#e6550d"}, {"filled", true}}},
        {"encoding",
         {{"y", {{"field", "age"}, {"type", "quantitative"}}},
          {"tooltip", ojson::array({{{"field", "session"}},
                                    {{"field", "age"}, {"title", "waited so far, s"}},
                                    {{"field", "p50"}},
                                    {{"field", "p95"}}})}}}}});
  return spec;
}

ojson forecast_offer(const ojson& f) {
  const ojson& n = f["new_session"];
  ojson points = ojson::array();
  const auto& xs = n["samples_s"];
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (xs[i].is_number())
      points.push_back({{"s", xs[i]}, {"share", static_cast<double>(i + 1) / static_cast<double>(xs.size())}});
  if (points.empty()) return nullptr;
  ojson spec = parts::base("A new '" + n["template"].get<std::string>() + "' session submitted now: start-up",
                           parts::kWide, 220);
  spec["layer"] = ojson::array(
      {{{"data", {{"values", points}}},
        {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"color", "#3182bd"}, {"strokeWidth", 2}}},
        {"encoding",
         {{"x", {{"field", "s"}, {"type", "quantitative"}, {"title", "start-up from submission, s"}}},
          {"y", {{"field", "share"}, {"type", "quantitative"}, {"title", "share of replications started"}}}}}},
       {{"data", {{"values", ojson::array({{{"s", n["queue_blind_s"]}, {"what", "queue-blind estimate"}}})}}},
        {"mark", {{"type", "rule"}, {"color", "#e6550d"}, {"strokeDash", ojson::array({4, 3})}}},
        {"encoding", {{"x", {{"field", "s"}, {"type", "quantitative"}}}, {"tooltip", {{"field", "what"}}}}}}});
  return spec;
}

}  // namespace stepq::charts
