#include "link_section.hpp"

#include "link_charts.hpp"
#include "reports/format.hpp"

namespace stepq {

namespace {

using ojson = nlohmann::ordered_json;
using format::fmt;
using format::pct;
using format::sec;

std::string esc(const std::string& s) { return html_escape(s); }
std::string count(const ojson& j) { return format::grouped(j.get<std::uint64_t>()); }

bool has_links(const ojson& r) { return r.contains("links") && !r["links"].empty(); }

std::string routes_text(const Scenario& sc) {
  std::string t;
  for (const auto& rt : sc.platform.routes) {
    std::string hops;
    for (int l : rt.links) hops += (hops.empty() ? "" : ", ") + sc.platform.links[l].name;
    t += std::string(t.empty() ? "" : "; ") + "<b>" + esc(rt.from) + " → " + esc(rt.to) + "</b> over " + esc(hops) +
         " (bottleneck " + fmt("%g", rt.bottleneck_Bps / 1e6) + " MB/s, latency " + sec(rt.latency_s) + " s)";
  }
  return t;
}

}  // namespace

std::string replicas_text(const std::vector<ReplicaChoice>& choices, const std::string& to) {
  double total = 0;
  for (const auto& c : choices) total += c.weight;
  std::string t;
  for (const auto& c : choices) {
    std::string hosts;
    bool local = false;
    for (const auto& h : c.hosts) {
      if (!hosts.empty()) hosts += " or ";
      hosts += h;
      local = local || h == to;
    }
    if (!t.empty()) t += " | ";
    t += hosts;
    if (choices.size() > 1) t += fmt(" %.3g%%", 100 * c.weight / total);
    if (local) t += " (local)";
  }
  return t;
}

std::string link_reading(const ojson& r) {
  if (!has_links(r)) return "";
  std::string busiest, slowest;
  double most = -1, longest = 0;
  bool capped = false;
  for (const auto& [name, l] : r["links"].items()) {
    if (l["utilization"].get<double>() > most) most = l["utilization"], busiest = name;
    if (l["queue_wait_s"]["mean"].get<double>() > longest) longest = l["queue_wait_s"]["mean"], slowest = name;
    capped = capped || l.contains("max_active");
  }
  const ojson& b = r["links"][busiest];
  std::string t = std::string(r["links"].size() > 1 ? " The busiest link, <b>" : " Link <b>") + esc(busiest) +
                  "</b>, carried a transfer " + pct(most) + " of the time (" +
                  fmt("%.3g", b["throughput_MBps"].get<double>()) + " MB/s on average of its " +
                  fmt("%g", b["bandwidth_MBps"].get<double>()) + ").";
  if (longest > 0)
    t += " Transfers waited " + sec(longest) + " s on average (p95 " + sec(r["links"][slowest]["queue_wait_s"]["p95"]) +
         " s) for an FTS slot on <b>" + esc(slowest) + "</b>.";
  else if (capped) t += " No transfer waited for an FTS slot.";
  return t;
}

void link_section(HtmlPage& p, const Scenario& sc, const ojson& r) {
  if (!has_links(r)) return;
  std::string intro =
      "<h2>Links</h2>\n<p>Data that is not already at the site crosses the links of a route; transfers on a link "
      "share its bandwidth (max-min fair). Where a link has an FTS cap (max_active), at most that many transfers "
      "move on it at once and the others wait for a slot, first come, first served.";
  if (!sc.platform.routes.empty()) intro += " Routes: " + routes_text(sc) + ".";
  p.html(intro + "</p>\n");

  // Pairs share a cell (mean / p95, mean / max) so that the table fits the page's width.
  std::string h = "<table>\n<tr>";
  for (const char* c : {"link", "MB/s", "cap", "transfers", "avg MB/s", "util", "transfer, s<br>mean / p95",
                        "FTS wait, s<br>mean / p95", "queue<br>mean / max"})
    h += std::string("<th>") + c + "</th>";
  h += "</tr>\n";
  for (const auto& [name, l] : r["links"].items()) {
    h += "<tr>";
    for (const auto& c :
         {esc(name), fmt("%g", l["bandwidth_MBps"].get<double>()),
          l.contains("max_active") ? std::to_string(l["max_active"].get<int>()) : std::string("–"),
          count(l["transfers"]), fmt("%.3g", l["throughput_MBps"].get<double>()), pct(l["utilization"].get<double>()),
          sec(l["transfer_s"]["mean"]) + " / " + sec(l["transfer_s"]["p95"]),
          sec(l["queue_wait_s"]["mean"]) + " / " + sec(l["queue_wait_s"]["p95"]),
          fmt("%.3g", l["queue"]["mean"].get<double>()) + " / " + count(l["queue"]["max"])})
      h += "<td>" + c + "</td>";
    h += "</tr>\n";
  }
  p.html(h +
         "</table>\n<p class=\"sub\">transfer: from the slot taken to the last byte; FTS wait: for a slot "
         "under max_active; util: the share of time the link carried a transfer; queue: transfers waiting for "
         "a slot.</p>\n");

  if (r.contains("leases")) {
    const ojson& ls = r["leases"];
    p.html("<p>Leases: " + count(ls["extensions"]) + " renewals of staged replicas while sessions ran; " +
           count(ls["late"]) +
           " late (more than the replicas' lifetime after the one before: they could have been "
           "deleted under the session); " +
           count(ls["failed"]) +
           " failed (the renewals stop, the session goes on)."
           "</p>\n");
  }
  if (r["timeline"].contains("replication"))
    p.html("<p class=\"sub\">Over time: replication 0 of " + std::to_string(r["replications"].get<int>()) +
           " (series over time are not averaged).</p>\n");
  p.html("<div class=\"grid\">\n");
  p.chart("link-queue-over-time", charts::link_queue_over_time(r, "simulated time"));
  p.chart("link-throughput-over-time", charts::link_throughput_over_time(r, "simulated time"));
  p.html("</div>\n");
}

}  // namespace stepq
