#include "comparison.hpp"

#include <cstdio>
#include <string>

namespace stepq {

void add_analytic(nlohmann::ordered_json& r, const Scenario& sc, const AnalyticResult& a) {
  for (std::size_t p = 0; p < sc.pools.size(); ++p)
    r["pools"][sc.pools[p].name]["analytic"] = {{"utilization", a.pools[p].utilization}, {"stable", a.pools[p].stable}};
  for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
    const PoolEstimate& p = a.pools[sc.kinds[k].pool];
    auto& kj = r["kinds"][sc.kinds[k].name];
    nlohmann::ordered_json an;
    an["model"] = p.model;
    an["exact"] = p.exact;
    if (!p.stable || !a.kinds[k].wait) {
      an["wait_s"] = nullptr;
      an["stable"] = false;
      kj["analytic"] = an;
      continue;
    }
    const WaitEstimate& w = *a.kinds[k].wait;
    an["wait_s"] = {{"mean", w.mean}, {"p95", w.p95}};
    // Disagreement needs an interval: with one run there is none, so nothing is flagged.
    if (kj["wait_s"].contains("ci95")) {
      const auto& ci = kj["wait_s"]["ci95"]["mean"];
      an["agrees"] = ci[0].get<double>() <= w.mean && w.mean <= ci[1].get<double>();
    }
    kj["analytic"] = an;
  }
  for (std::size_t c = 0; c < a.clusters.size(); ++c) {
    const ClusterEstimate& e = a.clusters[c];
    auto& cj = r["clusters"][sc.platform.clusters[c].name];
    nlohmann::ordered_json an;
    an["model"] = e.model;
    an["exact"] = e.exact;
    an["utilization"] = e.utilization;
    an["pending_s"] = e.stable && e.pending ? nlohmann::ordered_json{{"mean", e.pending->mean}, {"p95", e.pending->p95}}
                                            : nlohmann::ordered_json(nullptr);
    if (e.stable && e.pending && cj["pending_s"].contains("ci95")) {
      const auto& ci = cj["pending_s"]["ci95"]["mean"];
      an["agrees"] = ci[0].get<double>() <= e.pending->mean && e.pending->mean <= ci[1].get<double>();
    }
    cj["analytic"] = an;
  }
  // Links: simulate's transfer_s is the moving time (slot taken -> last byte) and queue_wait_s the
  // wait for a slot, as the analysis gives them.
  for (const LinkEstimate& e : a.links) {
    if (!r.contains("links") || !r["links"].contains(e.name)) continue;
    auto& lj = r["links"][e.name];
    nlohmann::ordered_json an;
    an["model"] = e.model;
    an["exact"] = e.exact;
    an["utilization"] = e.utilization;
    an["stable"] = e.stable;
    if (!e.transfer_mean_s) {
      an["transfer_s"] = nullptr;
      an["queue_wait_s"] = nullptr;
      lj["analytic"] = an;
      continue;
    }
    an["transfer_s"] = {{"mean", *e.transfer_mean_s}};
    an["queue_wait_s"] = {{"mean", *e.queue_wait_mean_s}};
    if (lj["transfer_s"].contains("ci95") && lj["queue_wait_s"].contains("ci95")) {
      auto within = [](const nlohmann::ordered_json& ci, double v) {
        return ci[0].get<double>() <= v && v <= ci[1].get<double>();
      };
      an["agrees"] = within(lj["transfer_s"]["ci95"]["mean"], *e.transfer_mean_s) &&
                     within(lj["queue_wait_s"]["ci95"]["mean"], *e.queue_wait_mean_s);
    }
    lj["analytic"] = an;
  }
}

void print_comparison(std::ostream& out, const nlohmann::ordered_json& r, const TermStyle& style) {
  out << "\n" << style.bold("Simulated wait beside queueing theory") << " (stepq analyze)\n";
  char line[200];
  std::snprintf(line, sizeof line, "  %-20s %-24s %10s %10s %10s %10s\n", "kind", "model", "sim mean", "theory",
                "sim p95", "theory");
  out << line;
  bool flagged = false;
  for (const auto& [name, k] : r["kinds"].items()) {
    if (!k.contains("analytic")) continue;
    const auto& a = k["analytic"];
    std::string model = a["model"].get<std::string>() + (a["exact"].get<bool>() ? "" : " ~");
    if (model.size() > 24) model = model.substr(0, 23) + "~";
    if (a["wait_s"].is_null()) {
      std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10s\n", name.substr(0, 20).c_str(), model.c_str(),
                    k["wait_s"]["mean"].get<double>(), "unstable");
    } else {
      const bool off = a.contains("agrees") && !a["agrees"].get<bool>();
      flagged |= off;
      std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10.4g %10.4g %10.4g", name.substr(0, 20).c_str(),
                    model.c_str(), k["wait_s"]["mean"].get<double>(), a["wait_s"]["mean"].get<double>(),
                    k["wait_s"]["p95"].get<double>(), a["wait_s"]["p95"].get<double>());
      out << line << (off ? style.red("  <- off") : "") << "\n";
      continue;
    }
    out << line;
  }
  if (r.contains("clusters"))
    for (const auto& [name, c] : r["clusters"].items()) {
      if (!c.contains("analytic")) continue;
      const auto& a = c["analytic"];
      std::string model = a["model"].get<std::string>() + (a["exact"].get<bool>() ? "" : " ~");
      if (model.size() > 24) model = model.substr(0, 23) + "~";
      const std::string label = ("Pending " + name).substr(0, 20);
      if (a["pending_s"].is_null()) {
        std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10s\n", label.c_str(), model.c_str(),
                      c["pending_s"]["mean"].get<double>(), "unstable");
        out << line;
        continue;
      }
      const bool off = a.contains("agrees") && !a["agrees"].get<bool>();
      flagged |= off;
      std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10.4g %10.4g %10.4g", label.c_str(), model.c_str(),
                    c["pending_s"]["mean"].get<double>(), a["pending_s"]["mean"].get<double>(),
                    c["pending_s"]["p95"].get<double>(), a["pending_s"]["p95"].get<double>());
      out << line << (off ? style.red("  <- off") : "") << "\n";
    }
  if (r.contains("links")) {
    bool header = false;
    for (const auto& [name, l] : r["links"].items()) {
      if (!l.contains("analytic") || l["transfers"].get<double>() <= 0) continue;
      const auto& a = l["analytic"];
      if (!header) {
        std::snprintf(line, sizeof line, "  %-20s %-24s %10s %10s %10s %10s\n", "link (mean s)", "model", "transfer",
                      "theory", "FTS wait", "theory");
        out << line;
        header = true;
      }
      std::string model = a["model"].get<std::string>();
      // "M/M/1 work-conserving, cap 2" is too long to show whole, and a cut one reads as approximate.
      if (const auto w = model.find("work-conserving, "); w != std::string::npos) model.erase(w, 17);
      model += a["exact"].get<bool>() ? "" : " ~";
      if (model.size() > 24) model = model.substr(0, 23) + "~";
      if (a["transfer_s"].is_null()) {
        std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10s %10.4g %10s\n", name.substr(0, 20).c_str(),
                      model.c_str(), l["transfer_s"]["mean"].get<double>(), "overload",
                      l["queue_wait_s"]["mean"].get<double>(), "overload");
        out << line;
        continue;
      }
      const bool off = a.contains("agrees") && !a["agrees"].get<bool>();
      flagged |= off;
      std::snprintf(line, sizeof line, "  %-20s %-24s %10.4g %10.4g %10.4g %10.4g", name.substr(0, 20).c_str(),
                    model.c_str(), l["transfer_s"]["mean"].get<double>(), a["transfer_s"]["mean"].get<double>(),
                    l["queue_wait_s"]["mean"].get<double>(), a["queue_wait_s"]["mean"].get<double>());
      out << line << (off ? style.red("  <- off") : "") << "\n";
    }
  }
  out << "  (~ = approximate model";
  if (!r.contains("replications") || r["replications"].get<int>() < 2)
    out << "; run with --replications to test agreement";
  out << ")\n";
  if (flagged)
    out << style.red("  <- off: theory is outside the simulated 95% interval.")
        << " An exact model that disagrees means\n"
           "  a bug; an approximate one, its limits.\n";
}

}  // namespace stepq
