#include "summary_table.hpp"

#include <cstdio>
#include <string>

#include "reports/format.hpp"
#include "reports/warmup_text.hpp"

namespace stepq {

namespace {
using format::fmt;
using format::sec;
std::string cut(std::string s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }
}  // namespace

void print_summary(std::ostream& out, const nlohmann::ordered_json& r, const TermStyle& style) {
  const auto& s = r["sessions"];
  const auto& run = r["run"];
  char line[256];
  std::snprintf(
      line, sizeof line, "%s: %llu sessions (%llu started, %llu failed), seed %llu; %s s simulated in %.2f s\n",
      r["scenario"].get<std::string>().c_str(), s["arrived"].get<unsigned long long>(),
      s["started"].get<unsigned long long>(), s["failed"].get<unsigned long long>(),
      r["seed"].get<unsigned long long>(), sec(run["simulated_s"].get<double>()).c_str(), run["wall_s"].get<double>());
  std::string first(line);
  first.pop_back();  // the newline stays outside the colour codes
  out << style.bold(first) << "\n\n";

  const auto& u = r["startup_s"];
  out << style.bold("Session start-up time") << " (accepted -> every step COMPLETED), seconds\n";
  std::snprintf(line, sizeof line, "  %10s %10s %10s %10s %10s %10s\n", "p50", "p90", "p95", "p99", "mean", "max");
  out << line;
  std::snprintf(line, sizeof line, "  %10s %10s %10s %10s %10s %10s\n", sec(u["p50"]).c_str(), sec(u["p90"]).c_str(),
                sec(u["p95"]).c_str(), sec(u["p99"]).c_str(), sec(u["mean"]).c_str(), sec(u["max"]).c_str());
  out << line;
  if (u.contains("ci95")) {
    const auto& ci = u["ci95"];
    std::snprintf(line, sizeof line, "  95%% intervals over %llu replications: mean [%s, %s], p95 [%s, %s]\n",
                  r["replications"].get<unsigned long long>(), sec(ci["mean"][0]).c_str(), sec(ci["mean"][1]).c_str(),
                  sec(ci["p95"][0]).c_str(), sec(ci["p95"][1]).c_str());
    out << line;
  }
  if (r.contains("stopping")) out << "  stopping rule: " << r["stopping"]["reason"].get<std::string>() << "\n";
  if (u.contains("split")) {  // where start-up went; shown when capacity or queues are part of it
    const auto& sp = u["split"];
    const double total = sp["pending"].get<double>() + sp["queue_wait"].get<double>() + sp["service"].get<double>() +
                         sp["other"].get<double>();
    if (total > 0) {
      auto part = [&](const char* key) {
        return sec(sp[key].get<double>()) + fmt(" (%.0f%%)", 100 * sp[key].get<double>() / total);
      };
      out << "  where it went (mean, critical path): pending " << part("pending") << ", queue waits "
          << part("queue_wait") << ",\n    service " << part("service") << ", other " << part("other")
          << " (start latency, poll lag, back-offs)\n";
    }
  }
  const auto warmup = warmup_text(r);
  for (std::size_t i = 0; i < warmup.size(); ++i) out << (i ? "    " : "  ") << warmup[i] << "\n";
  const double pc = r["prepare_cost_s"]["mean"];
  const double mean = u["mean"];
  std::snprintf(line, sizeof line, "  queue-blind prepare-cost estimate (broker formula): %s s mean", sec(pc).c_str());
  out << line;
  if (pc > 0 && mean > 0) out << fmt(" -- simulated mean is %.2fx that", mean / pc);
  out << "\n\n";

  // The pool column only matters when some pool serves several kinds; the kind column gives
  // way to it, so that a line stays within 100 columns.
  const bool shared = r["pools"].size() < r["kinds"].size();
  const int kw = shared ? 16 : 20;
  // Empty polls only where threads poll (dispatch "poll"); the JSON has them only then.
  const bool polls = !r["kinds"].empty() && r["kinds"].begin()->contains("empty_polls");
  out << style.bold("Per step kind") << " (wait = READY -> claimed by a thread; util = busy thread-time share;\n"
      << (polls ? "empty = polls that found no READY step; " : "")
      << "requeue = back to WAITING: polls, re-checks, retries)\n";
  std::snprintf(line, sizeof line, "  %-*s %-*s%4s %9s %9s %9s %5s %9s %8s %8s\n", kw, "kind", shared ? 13 : 0,
                shared ? "pool" : "", "thr", "steps", "wait mean", "wait p95", "util", "claims", polls ? "empty" : "",
                "requeue");
  out << line;
  for (const auto& [name, k] : r["kinds"].items()) {
    const std::string pool = shared ? cut(k["pool"].get<std::string>(), 12) : "";
    const std::string empty = polls ? std::to_string(k["empty_polls"].get<unsigned long long>()) : "";
    std::snprintf(line, sizeof line, "  %-*s %-*s%4d %9llu %9s %9s %5.2f %9llu %8s %8llu\n", kw,
                  cut(name, static_cast<std::size_t>(kw)).c_str(), shared ? 13 : 0, pool.c_str(),
                  k["threads"].get<int>(), k["steps"].get<unsigned long long>(), sec(k["wait_s"]["mean"]).c_str(),
                  sec(k["wait_s"]["p95"]).c_str(), k["utilization"].get<double>(),
                  k["claims"].get<unsigned long long>(), empty.c_str(), k["requeues"].get<unsigned long long>());
    std::string row(line);
    row.pop_back();
    out << (k["utilization"].get<double>() >= 0.8 ? style.yellow(row) : row) << "\n";
  }
  if (shared) {
    out << "\nPools (threads shared by several kinds)\n";
    for (const auto& [name, p] : r["pools"].items()) {
      std::snprintf(
          line, sizeof line, "  %-18s %4d threads  util %.2f  claims %llu%s\n", cut(name, 18).c_str(),
          p["threads"].get<int>(), p["utilization"].get<double>(), p["claims"].get<unsigned long long>(),
          polls ? ("  empty polls " + std::to_string(p["empty_polls"].get<unsigned long long>())).c_str() : "");
      out << line;
    }
  }
  if (r.contains("clusters")) {
    out << "\n" << style.bold("Clusters") << " (pending = submitted -> admitted; util = time-average share in use)\n";
    std::snprintf(line, sizeof line, "  %-14s %6s %8s %6s %6s %9s %9s %8s %9s %8s\n", "cluster", "nodes", "cores",
                  "util", "mem", "pend mean", "pend p95", "queue", "admitted", "refused");
    out << line;
    for (const auto& [name, c] : r["clusters"].items()) {
      std::snprintf(line, sizeof line, "  %-14s %6d %8s %6.2f %6.2f %9s %9s %8s %9llu %8llu\n", cut(name, 14).c_str(),
                    c["nodes"].get<int>(), sec(c["cores"].get<double>()).c_str(),
                    c["utilization"]["cores"].get<double>(), c["utilization"]["memory"].get<double>(),
                    sec(c["pending_s"]["mean"]).c_str(), sec(c["pending_s"]["p95"]).c_str(),
                    fmt("%.1f", c["queue"]["mean"].get<double>()).c_str(), c["admitted"].get<unsigned long long>(),
                    c["refused"].get<unsigned long long>());
      std::string row(line);
      row.pop_back();
      out << (c["utilization"]["cores"].get<double>() >= 0.8 ? style.yellow(row) : row) << "\n";
    }
  }
  for (const auto& [name, k] : r["kinds"].items())
    if (k.contains("replicas") && k["replicas"]["local"].get<unsigned long long>() > 0) {
      std::snprintf(line, sizeof line,
                    "\nStaging %s: %llu local replicas (located, bind-mounted, nothing moved), %llu "
                    "copied\n",
                    cut(name, 20).c_str(), k["replicas"]["local"].get<unsigned long long>(),
                    k["replicas"]["copied"].get<unsigned long long>());
      out << line;
    }
  if (r.contains("links") && !r["links"].empty()) {
    out << "\n"
        << style.bold("Links")
        << " (move = slot taken -> last byte; wait = for a slot under max_active;\n"
           "util = share of time carrying a transfer)\n";
    std::snprintf(line, sizeof line, "  %-14s %6s %5s %9s %8s %6s %9s %9s %9s %8s\n", "link", "MB/s", "cap",
                  "transfers", "avg MB/s", "util", "move mean", "move p95", "wait mean", "queue");
    out << line;
    for (const auto& [name, l] : r["links"].items()) {
      std::snprintf(line, sizeof line, "  %-14s %6s %5s %9llu %8s %6.2f %9s %9s %9s %8s\n", cut(name, 14).c_str(),
                    fmt("%g", l["bandwidth_MBps"].get<double>()).c_str(),
                    l.contains("max_active") ? std::to_string(l["max_active"].get<int>()).c_str() : "-",
                    l["transfers"].get<unsigned long long>(), fmt("%.1f", l["throughput_MBps"].get<double>()).c_str(),
                    l["utilization"].get<double>(), sec(l["transfer_s"]["mean"]).c_str(),
                    sec(l["transfer_s"]["p95"]).c_str(), sec(l["queue_wait_s"]["mean"]).c_str(),
                    fmt("%.1f", l["queue"]["mean"].get<double>()).c_str());
      std::string row(line);
      row.pop_back();
      out << (l["utilization"].get<double>() >= 0.8 ? style.yellow(row) : row) << "\n";
    }
  }
  if (r["sessions"].contains("completed"))
    out << "\nReleased: " << r["sessions"]["completed"].get<unsigned long long>()
        << " sessions ran and gave everything back; " << r["sessions"]["release_failed"].get<unsigned long long>()
        << " release" << (r["sessions"]["release_failed"].get<unsigned long long>() == 1 ? "" : "s") << " failed\n";
  const auto& f = r["failures"];
  if (f["count"].get<unsigned long long>() > 0) {
    out << "\n" << style.red("Failed sessions:") << " " << f["count"].get<unsigned long long>() << "\n";
    for (const auto& e : f["reasons"])
      out << "  " << e["sessions"].get<unsigned long long>() << " x " << e["reason"].get<std::string>() << "\n";
  }
}

}  // namespace stepq
