#include "warmup_text.hpp"

#include <map>

#include "reports/format.hpp"

namespace stepq {

namespace {
using format::grouped;

// Why, for one run, in a few words.
std::string why(const std::string& method, const std::string& reason) {
  if (reason == "transient") return "the start is unlike the rest of the run";
  if (reason == "cap") return "capped at half the run: the transient may be longer, run more sessions";
  if (reason == "unsteady") return "no steady part found within the run: run more sessions";
  if (reason == "fell") return "the MSER-5 statistic fell";
  if (reason == "fixed") return "a fixed number, --warmup N";
  if (reason == "none")
    return method == "auto" ? "the start is like the rest of the run" : "the MSER-5 statistic fell nowhere";
  return "--warmup none";
}

std::string contrast_note(const nlohmann::ordered_json& c) {
  if (c.is_null()) return "the rest of the run is constant";
  const double x = c.get<double>();
  return "its mean is " + format::fmt(x >= 10 ? "%.0f" : "%.1f", x) +
         "x as far from the kept mean as any later stretch's";
}
}  // namespace

std::vector<std::string> warmup_text(const nlohmann::ordered_json& r) {
  const auto& w = r["warmup"];
  const std::string method = w["method"];
  const std::string head = "warm-up (" + method + "): ";
  const auto dropped = w["sessions_dropped"].get<std::uint64_t>();
  if (!w.contains("per_replication")) {
    const std::string reason = w["reason"];
    std::string line =
        head + (dropped ? grouped(dropped) + " sessions dropped, " : "nothing dropped, ") + why(method, reason);
    std::vector<std::string> out{line};
    if (reason == "transient" && w.contains("contrast")) out.push_back(contrast_note(w["contrast"]));
    return out;
  }
  const auto& per = w["per_replication"];
  const auto& reasons = w["reasons"];
  std::size_t cut = 0;
  std::map<std::string, int> by_reason;
  for (std::size_t i = 0; i < per.size(); ++i) {
    cut += per[i].get<std::uint64_t>() > 0;
    by_reason[reasons[i].get<std::string>()]++;
  }
  std::vector<std::string> out{head + grouped(dropped) + " sessions dropped in " + std::to_string(cut) + " of " +
                               std::to_string(per.size()) + " replications"};
  for (const auto& [reason, n] : by_reason) out.push_back(std::to_string(n) + " x " + why(method, reason));
  if (cut > 0) {
    std::string list = "per replication:";
    for (std::size_t i = 0; i < per.size(); ++i) {
      std::string item(1, ' ');  // not " " + …: GCC 12 warns falsely (-Wrestrict) on that
      item += grouped(per[i].get<std::uint64_t>());
      if (list.size() + item.size() > 84) {
        list += " ...";
        break;
      }
      list += item;
    }
    out.push_back(list);
  }
  return out;
}

}  // namespace stepq
