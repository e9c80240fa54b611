#include "analysis_report.hpp"

#include <cstdio>
#include <sstream>
#include <string>

#include "reports/format.hpp"

namespace stepq {

namespace {
using ojson = nlohmann::ordered_json;

ojson wait_json(const std::optional<WaitEstimate>& w) {
  if (!w) return {{"mean", nullptr}, {"p50", nullptr}, {"p95", nullptr}, {"p99", nullptr}};
  return {{"mean", w->mean}, {"p50", w->p50}, {"p95", w->p95}, {"p99", w->p99}};
}

using format::fmt;
// Seconds as in the simulation summary (format::sec); null = unstable.
std::string sec(const ojson& j) { return j.is_null() ? "unstable" : format::sec(j.get<double>()); }
std::string num(double v) { return fmt("%.3g", v); }
std::string cut(std::string s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

// Word-wraps text to 100 columns after a first-line prefix; later lines indent by `indent`.
void wrapped(std::ostream& out, const std::string& prefix, const std::string& text, std::size_t indent) {
  std::istringstream words(text);
  std::string w, line = prefix;
  bool first = true;
  while (words >> w) {
    if (!first && line.size() + 1 + w.size() > 100) {
      out << line << "\n";
      line = std::string(indent, ' ') + w;
    } else {
      line += (first ? "" : " ") + w;
    }
    first = false;
  }
  out << line << "\n";
}
}  // namespace

ojson analysis_json(const Scenario& sc, const AnalyticResult& r) {
  ojson j;
  j["scenario"] = sc.name;
  j["method"] = "analytic";
  j["arrival_rate_per_s"] = r.arrival_rate_per_s;
  j["arrival_scv"] = r.arrival_scv;
  j["startup_s"] = {{"mean", r.startup_mean_s ? ojson(*r.startup_mean_s) : ojson(nullptr)}, {"approximate", true}};
  j["prepare_cost_s"] = {{"mean", r.prepare_cost_mean_s}};
  ojson kinds = ojson::object();
  for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
    const KindEstimate& e = r.kinds[k];
    const PoolEstimate& p = r.pools[sc.kinds[k].pool];
    ojson o;
    o["pool"] = sc.pools[sc.kinds[k].pool].name;
    o["threads"] = sc.pools[sc.kinds[k].pool].threads;
    o["steps_per_session"] = e.steps_per_session;
    o["visits_per_session"] = e.visits_per_session;
    o["arrival_rate_per_s"] = e.arrival_rate_per_s;
    o["wait_s"] = wait_json(e.wait);
    o["service_s"] = {{"mean", e.service_mean_s}, {"scv", e.service_scv}};
    o["utilization"] = e.utilization;
    o["model"] = p.model;
    o["exact"] = p.exact;
    kinds[sc.kinds[k].name] = o;
  }
  j["kinds"] = kinds;
  ojson pools = ojson::object();
  for (std::size_t p = 0; p < sc.pools.size(); ++p) {
    const PoolEstimate& e = r.pools[p];
    ojson kn = ojson::array();
    for (int k : sc.pools[p].kinds) kn.push_back(sc.kinds[k].name);
    ojson o;
    o["threads"] = sc.pools[p].threads;
    o["kinds"] = kn;
    o["arrival_rate_per_s"] = e.arrival_rate_per_s;
    o["service_s"] = {{"mean", e.service_mean_s}, {"scv", e.service_scv}};
    o["offered_load"] = e.offered_load;
    o["utilization"] = e.utilization;
    o["stable"] = e.stable;
    o["min_threads"] = e.min_threads > 0 ? ojson(e.min_threads) : ojson(nullptr);
    o["erlang_c"] = e.erlang_c;
    o["allen_cunneen"] = e.allen_cunneen;
    o["poll_delay_s"] = e.poll_delay_mean_s;
    o["wait_s"] = wait_json(e.wait);
    o["model"] = e.model;
    o["exact"] = e.exact;
    o["approximations"] = e.approximations;
    pools[sc.pools[p].name] = o;
  }
  j["pools"] = pools;
  ojson links = ojson::object();
  auto opt = [](const std::optional<double>& v) { return v ? ojson(*v) : ojson(nullptr); };
  for (const auto& l : r.links) {
    ojson o;
    o["bandwidth_MBps"] = l.bandwidth_Bps / 1e6;
    if (l.max_active > 0) o["max_active"] = l.max_active;
    o["utilization"] = l.utilization;
    o["stable"] = l.stable;
    o["transfers_per_s"] = l.transfers_per_s;
    o["mean_bytes"] = l.mean_bytes;
    o["service_s"] = l.service_s;
    o["transfer_s"] = {{"mean", opt(l.transfer_mean_s)}};
    o["queue_wait_s"] = {{"mean", opt(l.queue_wait_mean_s)}};
    o["model"] = l.model;
    o["exact"] = l.exact;
    o["approximations"] = l.approximations;
    links[l.name] = o;
  }
  j["links"] = links;
  if (!r.clusters.empty()) {
    ojson clusters = ojson::object();
    for (std::size_t c = 0; c < r.clusters.size(); ++c) {
      const ClusterEstimate& e = r.clusters[c];
      ojson o;
      o["nodes"] = sc.platform.clusters[c].node_count();
      o["slots"] = e.slots;
      o["identical_requests"] = e.identical;
      o["arrival_rate_per_s"] = e.arrival_rate_per_s;
      o["hold_s"] = {{"mean", e.hold_mean_s}, {"scv", e.hold_scv}};
      o["offered_load"] = e.offered_load;
      o["utilization"] = e.utilization;
      o["stable"] = e.stable;
      o["erlang_c"] = e.erlang_c;
      o["pending_s"] = wait_json(e.pending);
      o["refused_share"] = e.refused_share;
      o["nodes_needed"] = e.nodes_needed > 0 ? ojson(e.nodes_needed) : ojson(nullptr);
      o["nodes_at_utilization_0_8"] = e.nodes_at_80 > 0 ? ojson(e.nodes_at_80) : ojson(nullptr);
      o["model"] = e.model;
      o["exact"] = e.exact;
      o["approximations"] = e.approximations;
      clusters[sc.platform.clusters[c].name] = o;
    }
    j["clusters"] = clusters;
  }
  j["verdicts"] = r.verdicts;
  j["notes"] = r.notes;
  j["iterations"] = r.iterations;
  return j;
}

void print_analysis(std::ostream& out, const ojson& r) {
  char line[256];
  out << r["scenario"].get<std::string>() << ": analytic estimate (queueing theory), "
      << num(r["arrival_rate_per_s"].get<double>()) << " sessions/s arriving (Ca2 "
      << num(r["arrival_scv"].get<double>()) << ")\n\n";

  const auto& u = r["startup_s"];
  const double pc = r["prepare_cost_s"]["mean"];
  out << "Session start-up, mean (approximate: critical path of mean step times)\n";
  const std::string startup = u["mean"].is_null() ? "unbounded (a pool or cluster is unstable)" : sec(u["mean"]) + " s";
  std::snprintf(line, sizeof line, "  %s; queue-blind prepare-cost estimate (broker formula) %s s", startup.c_str(),
                sec(r["prepare_cost_s"]["mean"]).c_str());
  out << line;
  if (!u["mean"].is_null() && pc > 0) out << fmt(", x%.2f that", u["mean"].get<double>() / pc);
  out << "\n\n";

  const bool shared = r["pools"].size() < r["kinds"].size();
  out << "Per step kind (wait = READY -> claimed, claim included; visits = claims per session;\n"
         "util = the kind's share of its pool's threads; exact = M/M/c holds exactly)\n";
  if (shared)
    std::snprintf(line, sizeof line, "  %-18s %-12s %4s %7s %9s %9s %9s %9s %5s %5s\n", "kind", "pool", "thr", "visits",
                  "wait mean", "wait p95", "wait p99", "service", "util", "exact");
  else
    std::snprintf(line, sizeof line, "  %-20s %4s %7s %9s %9s %9s %9s %9s %5s %5s\n", "kind", "thr", "visits",
                  "claims/s", "wait mean", "wait p95", "wait p99", "service", "util", "exact");
  out << line;
  for (const auto& [name, k] : r["kinds"].items()) {
    const auto& w = k["wait_s"];
    const std::string visits = num(k["visits_per_session"].get<double>());
    const char* exact = k["exact"].get<bool>() ? "yes" : "~";
    if (shared)
      std::snprintf(line, sizeof line, "  %-18s %-12s %4d %7s %9s %9s %9s %9s %5.2f %5s\n", cut(name, 18).c_str(),
                    cut(k["pool"].get<std::string>(), 12).c_str(), k["threads"].get<int>(), visits.c_str(),
                    sec(w["mean"]).c_str(), sec(w["p95"]).c_str(), sec(w["p99"]).c_str(),
                    sec(k["service_s"]["mean"]).c_str(), k["utilization"].get<double>(), exact);
    else
      std::snprintf(line, sizeof line, "  %-20s %4d %7s %9s %9s %9s %9s %9s %5.2f %5s\n", cut(name, 20).c_str(),
                    k["threads"].get<int>(), visits.c_str(), num(k["arrival_rate_per_s"].get<double>()).c_str(),
                    sec(w["mean"]).c_str(), sec(w["p95"]).c_str(), sec(w["p99"]).c_str(),
                    sec(k["service_s"]["mean"]).c_str(), k["utilization"].get<double>(), exact);
    out << line;
  }

  out << "\nPools (load = threads' worth of work; P(wait) = Erlang C; min = fewest threads for stability)\n";
  std::snprintf(line, sizeof line, "  %-18s %4s %7s %5s %7s %4s  %s\n", "pool", "thr", "load", "util", "P(wait)", "min",
                "model");
  out << line;
  for (const auto& [name, p] : r["pools"].items()) {
    std::string model = p["model"].get<std::string>() + (p["exact"].get<bool>() ? " (exact)" : "");
    if (!p["stable"].get<bool>()) model = "UNSTABLE";
    const std::string min = p["min_threads"].is_null() ? "-" : std::to_string(p["min_threads"].get<int>());
    std::snprintf(line, sizeof line, "  %-18s %4d %7s %5.2f %7.3f %4s  %s\n", cut(name, 18).c_str(),
                  p["threads"].get<int>(), num(p["offered_load"].get<double>()).c_str(), p["utilization"].get<double>(),
                  p["erlang_c"].get<double>(), min.c_str(), cut(model, 56).c_str());
    out << line;
  }

  if (!r["links"].empty()) {
    out << "\nLinks (util = bytes per second / bandwidth; transfer = slot taken -> last byte, latency\n"
           "included; FTS wait = waiting for a slot)\n";
    std::snprintf(line, sizeof line, "  %-12s %6s %10s %5s %9s %9s  %s\n", "link", "MB/s", "transfers", "util",
                  "transfer", "FTS wait", "model");
    out << line;
    for (const auto& [name, l] : r["links"].items()) {
      std::string model = l["model"].get<std::string>() + (l["exact"].get<bool>() ? " (exact)" : "");
      const bool idle = l["transfers_per_s"].get<double>() <= 0;
      if (!l["stable"].get<bool>()) model = "OVERLOADED";
      auto cell = [&](const ojson& v) { return idle ? std::string("-") : sec(v); };
      std::snprintf(line, sizeof line, "  %-12s %6s %8s/s %5.2f %9s %9s  %s\n", cut(name, 12).c_str(),
                    fmt("%.4g", l["bandwidth_MBps"].get<double>()).c_str(),
                    num(l["transfers_per_s"].get<double>()).c_str(), l["utilization"].get<double>(),
                    cell(l["transfer_s"]["mean"]).c_str(), cell(l["queue_wait_s"]["mean"]).c_str(),
                    cut(model, 40).c_str());
      out << line;
    }
  }

  if (r.contains("clusters")) {
    out << "\nClusters (slots = sessions held at once; hold = admission -> delete done; min = first-group nodes\n"
           "for stability)\n";
    std::snprintf(line, sizeof line, "  %-14s %6s %6s %8s %7s %5s %9s %9s %6s %5s\n", "cluster", "nodes", "slots",
                  "hold", "load", "util", "pend mean", "pend p95", "refuse", "min");
    out << line;
    for (const auto& [name, c] : r["clusters"].items()) {
      std::string model = c["model"].get<std::string>() + (c["exact"].get<bool>() ? " (exact)" : "");
      if (!c["stable"].get<bool>()) model = "UNSTABLE";
      const std::string min = c["nodes_needed"].is_null() ? "-" : std::to_string(c["nodes_needed"].get<int>());
      std::snprintf(line, sizeof line, "  %-14s %6d %6s %8s %7s %5.2f %9s %9s %5.1f%% %5s\n", cut(name, 14).c_str(),
                    c["nodes"].get<int>(), num(c["slots"].get<double>()).c_str(), sec(c["hold_s"]["mean"]).c_str(),
                    num(c["offered_load"].get<double>()).c_str(), c["utilization"].get<double>(),
                    sec(c["pending_s"]["mean"]).c_str(), sec(c["pending_s"]["p95"]).c_str(),
                    100 * c["refused_share"].get<double>(), min.c_str());
      out << line;
      wrapped(out, "    model: ", model, 6);
    }
  }

  out << "\nVerdict\n";
  for (const auto& v : r["verdicts"]) wrapped(out, "  ", v.get<std::string>(), 4);
  if (!r["notes"].empty()) {
    out << "\nApproximations\n";
    for (const auto& n : r["notes"]) wrapped(out, "  - ", n.get<std::string>(), 4);
  }
}

}  // namespace stepq
