#include "cluster_section.hpp"

#include "cluster_charts.hpp"
#include "reports/format.hpp"

namespace stepq {

namespace {

using ojson = nlohmann::ordered_json;
using format::fmt;
using format::pct;
using format::sec;

std::string count(const ojson& j) { return format::grouped(j.get<std::uint64_t>()); }
std::string plural(const ojson& n, const std::string& one, const std::string& many) {
  return n.get<double>() == 1 ? one : many;
}

// What a cluster is, in one line: size, admission rule, per-user limit.
std::string describe(const ojson& c) {
  const std::string nodes = std::to_string(c["nodes"].get<int>());
  std::string t = nodes + plural(c["nodes"], " node, ", " nodes, ") + fmt("%g", c["cores"].get<double>()) + " cores, " +
                  fmt("%g", c["memory_GB"].get<double>()) + " GB of memory; admission " +
                  (c["admission"] == "fifo" ? "fifo (the oldest first: one that fits no node yet holds back the rest)"
                                            : "backfill (any waiting session that fits, the oldest first)");
  if (c.contains("user_limit"))
    t += "; at most " + std::to_string(c["user_limit"].get<int>()) + " sessions per user, queued or running";
  return t;
}

// Pending beside theory: the model's mean and p95, or why there is none.
std::string theory_note(const ojson& c) {
  if (!c.contains("analytic")) return "";
  const ojson& a = c["analytic"];
  const std::string model = " (" + html_escape(a["model"].get<std::string>()) + (a["exact"].get<bool>() ? ")" : " ~)");
  if (a["pending_s"].is_null())
    return "<br>theory: none, sessions would want " + pct(a["utilization"].get<double>()) +
           " of its room, no steady state" + model;
  std::string t = "<br>theory: " + sec(a["pending_s"]["mean"]) + " s, p95 " + sec(a["pending_s"]["p95"]) + " s" + model;
  if (a.contains("agrees") && !a["agrees"].get<bool>()) t += " <span class=\"bad\">outside the 95% interval</span>";
  return t;
}

std::string cards(const ojson& c) {
  const ojson& u = c["utilization"];
  std::string h = "<div class=\"cards\">\n";
  h += html_card("", "cores in use", pct(u["cores"].get<double>()),
                 "time-average share of its " + fmt("%g", c["cores"].get<double>()) + " cores; memory " +
                     pct(u["memory"].get<double>()) + " of " + fmt("%g", c["memory_GB"].get<double>()) + " GB");
  const ojson& ps = c["pending_s"];
  std::string note = "launch → admitted; p95 " + sec(ps["p95"]) + " s";
  if (ps.contains("ci95") && ps["ci95"].contains("mean"))
    note += "<br>95% interval " + sec(ps["ci95"]["mean"][0]) + " – " + sec(ps["ci95"]["mean"][1]) + " s";
  h += html_card("", "Pending mean", sec(ps["mean"]) + " <small>s</small>", note + theory_note(c));
  h += html_card("", "admission queue", fmt("%.1f", c["queue"]["mean"].get<double>()),
                 "sessions Pending on average; at most " + count(c["queue"]["max"]));
  const std::string admitted = count(c["admitted"]) + " admitted of " + count(c["submitted"]) + " submitted";
  h += html_card("", "launches refused", count(c["refused"]),
                 c.contains("user_limit")
                     ? "over the per-user limit of " + std::to_string(c["user_limit"].get<int>()) + "; " + admitted
                     : "no per-user limit; " + admitted);
  return h + "</div>\n";
}

}  // namespace

std::string pending_reading(const ojson& r) {
  if (!r.contains("clusters") || r["clusters"].empty()) return "";
  std::string t;
  const ojson& sp = r["startup_s"].value("split", ojson::object());
  double total = 0;
  for (const auto& [k, v] : sp.items()) total += v.get<double>();
  if (total > 0 && sp.contains("pending"))
    t += " Sessions spent <b>" + pct(sp["pending"].get<double>() / total) + "</b> of their mean start-up (" +
         sec(sp["pending"]) + " of " + sec(total) + " s) Pending, waiting for cluster capacity.";
  std::string fullest;
  double most = -1;
  for (const auto& [name, c] : r["clusters"].items())
    if (c["utilization"]["cores"].get<double>() > most) most = c["utilization"]["cores"], fullest = name;
  const ojson& c = r["clusters"][fullest];
  t += std::string(r["clusters"].size() > 1 ? " The fullest cluster, <b>" : " Cluster <b>") + html_escape(fullest) +
       "</b>, had " + pct(most) + " of its " + fmt("%g", c["cores"].get<double>()) + " cores in use";
  if (c["refused"].get<std::uint64_t>() > 0)
    t +=
        " and refused " + count(c["refused"]) + plural(c["refused"], " launch", " launches") + " at its per-user limit";
  return t + ".";
}

void cluster_section(HtmlPage& p, const ojson& r) {
  if (!r.contains("clusters") || r["clusters"].empty()) return;
  p.html(
      "<h2>Clusters</h2>\n<p>A launch asks a cluster for its session's cores and memory. The session is Pending "
      "in the cluster's admission queue until a node has room, and holds the room until its release gives it "
      "back.</p>\n");
  for (const auto& [name, c] : r["clusters"].items())
    p.html("<h3>Cluster " + html_escape(name) + "</h3>\n<p class=\"sub\">" + html_escape(describe(c)) + ".</p>\n" +
           cards(c));
  if (r["sessions"].contains("completed")) {
    const ojson& n = r["sessions"];
    p.html("<p>Released: " + count(n["completed"]) + " sessions ran and gave everything back; " +
           count(n["release_failed"]) + plural(n["release_failed"], " release", " releases") +
           " failed (a failed release keeps what it held).</p>\n");
  }
  if (r["timeline"].contains("replication"))
    p.html("<p class=\"sub\">Over time: replication 0 of " + std::to_string(r["replications"].get<int>()) +
           " (series over time are not averaged).</p>\n");
  p.html("<div class=\"grid\">\n");
  p.chart("cluster-cores-over-time", charts::cluster_usage_over_time(r, "cores", "simulated time"));
  p.chart("cluster-memory-over-time", charts::cluster_usage_over_time(r, "memory_GB", "simulated time"));
  p.chart("cluster-queue-over-time", charts::cluster_queue_over_time(r, "simulated time"));
  p.chart("cluster-refused-over-time", charts::cluster_refused_over_time(r, "simulated time"));
  p.html("</div>\n");
}

}  // namespace stepq
