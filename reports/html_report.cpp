#include "html_report.hpp"

#include <cstdio>

#include "charts.hpp"
#include "cluster_section.hpp"
#include "forecast_chart.hpp"
#include "html_page.hpp"
#include "link_section.hpp"

#include "reports/format.hpp"
#include "reports/warmup_text.hpp"

namespace stepq {

namespace {

using ojson = nlohmann::ordered_json;

using format::fmt;
using format::pct;
using format::sec;
std::string count(std::uint64_t n) { return format::grouped(n); }

std::string esc(const std::string& s) { return html_escape(s); }

void heading(HtmlPage& p, const std::string& title, const std::string& subtitle) {
  p.html("<h1>" + esc(title) + "</h1>\n<p class=\"sub\">" + subtitle + "</p>\n");
}

std::string quantile_cards(const ojson& s) {
  std::string h;
  for (const char* q : {"p50", "p95", "p99"}) {
    std::string note = q[1] == '5'   ? "half the sessions ready within"
                       : q[2] == '5' ? "19 in 20 ready within"
                                     : "99 in 100 ready within";
    if (s.contains("ci95") && s["ci95"].contains(q))
      note += "<br>95% interval " + sec(s["ci95"][q][0]) + " – " + sec(s["ci95"][q][1]) + " s";
    h += html_card(q, std::string("start-up ") + q, sec(s[q]) + " <small>s</small>", note);
  }
  return h;
}

// text_from: columns from this one on hold words (left-aligned, wrapped), not numbers.
void table(HtmlPage& p, const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
           std::size_t text_from = SIZE_MAX) {
  std::string h = "<table>\n<tr>";
  for (std::size_t i = 0; i < head.size(); ++i)
    h += std::string(i >= text_from ? "<th class=\"text\">" : "<th>") + head[i] + "</th>";
  h += "</tr>\n";
  for (const auto& r : rows) {
    h += "<tr>";
    for (std::size_t i = 0; i < r.size(); ++i)
      h += std::string(i >= text_from ? "<td class=\"text\">" : "<td>") + r[i] + "</td>";
    h += "</tr>\n";
  }
  p.html(h + "</table>\n");
}

std::string arrivals_text(const Scenario& sc) {
  const auto& a = sc.arrivals;
  std::string t;
  switch (a.process) {
    case ArrivalSpec::Process::poisson:
      t = "Poisson arrivals, " + fmt("%.4g", a.rate_per_s) + " sessions/s (one every " + sec(1 / a.rate_per_s) +
          " s on average)";
      break;
    case ArrivalSpec::Process::periodic: t = "periodic arrivals, one every " + sec(1 / a.rate_per_s) + " s"; break;
    case ArrivalSpec::Process::trace:
      t = "arrivals replayed from " + esc(a.trace_file) + " (" + count(a.times.size()) + " instants)";
      break;
  }
  if (a.burst) t += ", after a burst of " + count(a.burst) + " at t = 0";
  if (sc.sessions) t += "; " + count(*sc.sessions) + " sessions";
  if (sc.duration_s) t += "; for " + sec(*sc.duration_s) + " s";
  return t;
}

// What the scenario is: arrivals, dispatch, kinds with pools and costs, templates.
void scenario_section(HtmlPage& p, const Scenario& sc) {
  p.html("<h2>Scenario</h2>\n<p>" + esc(sc.file) + ": " + arrivals_text(sc) + ". Dispatch: " +
         (sc.dispatch.mode == DispatchSpec::Mode::notify ? "notify (an idle thread is woken per READY step)"
                                                         : "poll every " + sec(sc.dispatch.poll_interval_s) + " s") +
         (sc.dispatch.claim_s > 0 ? ", " + sec(sc.dispatch.claim_s) + " s per claim" : "") + "; dependencies " +
         (sc.dispatch.dependencies == DispatchSpec::Dependencies::activate
              ? "activate successors"
              : "re-checked every " + sec(sc.dispatch.recheck_s) + " s (the broker today)") +
         ".</p>\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : sc.kinds) {
    const auto& pool = sc.pools[k.pool];
    std::string extra;
    if (k.retry.max_attempts > 1 || k.retry.failure_probability > 0)
      extra = fmt("fails %.3g%%", 100 * k.retry.failure_probability) + ", " + std::to_string(k.retry.max_attempts) +
              " attempts";
    if (k.poll)
      extra += std::string(extra.empty() ? "" : "; ") + "polls every " + sec(k.poll->interval_s) + " s" +
               (k.poll->watch_rules ? ", watches rules (ready when its data steps' bytes have moved)" : "");
    if (k.transfer) {
      const auto& tr = *k.transfer;
      extra += std::string(extra.empty() ? "" : "; ") +
               (tr.replicas.empty()
                    ? "transfer " + esc(tr.from) + " → " + esc(tr.to)
                    : "transfer → " + esc(tr.to) + " from replicas " + esc(replicas_text(tr.replicas, tr.to)));
      // Who waits for the bytes: a rule's move holds no thread; otherwise the step's thread does.
      if (k.rule) extra += "; rule: submit, bytes move after " + esc(k.rule->delay_s.describe()) + " s (asynchronous)";
      else if (k.op == Op::data) extra += " (the thread waits for the bytes)";
    }
    rows.push_back({esc(k.name), std::string(to_string(k.op)), esc(pool.name), std::to_string(pool.threads),
                    "<span title=\"" + esc(k.service_s.describe()) + "\">" + sec(k.service_s.mean()) + "</span>",
                    k.prepare_cost_s ? sec(*k.prepare_cost_s) : "–", extra});
  }
  table(p, {"kind", "op", "pool", "threads", "service mean, s", "broker's cost, s", "retries, polls, transfers"}, rows,
        6);
  std::string t = "<p>Templates: ";
  for (std::size_t i = 0; i < sc.templates.size(); ++i) {
    const auto& tp = sc.templates[i];
    // Release steps and the cluster request only where the template has them (a page without is as before).
    const std::string steps = tp.has_release()
                                  ? std::to_string(tp.startup_steps) + " start-up and " +
                                        std::to_string(tp.release_end() - tp.startup_steps) + " release steps"
                                  : std::to_string(tp.steps.size()) + " steps";
    std::string request;
    if (tp.clustered())
      request = "; on cluster " + esc(sc.platform.clusters[tp.session->cluster].name) + ": cores " +
                esc(tp.session->cores.describe()) + ", memory " + esc(tp.session->memory_GB.describe()) + " GB, runs " +
                esc(tp.session->run_s.describe()) + " s";
    if (tp.lease)
      request += "; staged replicas live " + sec(tp.lease->lifetime_s) + " s, renewed by " +
                 esc(sc.kinds[tp.lease->kind].name) + " every " + sec(tp.lease->every_s) + " s while it runs";
    t += (i ? "; " : "") + std::string("<b>") + esc(tp.name) + "</b> (weight " + fmt("%.3g", tp.weight) + ", " + steps +
         ", broker estimate " + sec(tp.total_prepare_cost_s) + " s" + request + ")";
  }
  p.html(t + ".</p>\n");
}

void failures(HtmlPage& p, const ojson& reasons) {
  if (reasons.empty()) return;
  std::string h = "<h2>Why sessions failed</h2>\n<ul>\n";
  for (const auto& e : reasons)
    h += "<li>" + count(e["sessions"].get<std::uint64_t>()) + " × " + esc(e["reason"].get<std::string>()) + "</li>\n";
  p.html(h + "</ul>\n");
}

std::string threads_text(const ojson& threads) {
  std::string s;
  for (const auto& [pool, n] : threads.items()) s += (s.empty() ? "" : " ") + pool + "=" + std::to_string(n.get<int>());
  return s;
}

}  // namespace

void write_simulation_report(const std::string& path, const Scenario& sc, const ojson& r) {
  HtmlPage p("stepq simulate: " + sc.name, r);
  const auto& s = r["startup_s"];
  const auto& n = r["sessions"];
  const int reps = r["replications"].get<int>();
  std::string sub = "stepq simulate · seed " + std::to_string(r["seed"].get<std::uint64_t>()) + " · " +
                    count(n["arrived"].get<std::uint64_t>()) + " sessions (" +
                    count(n["started"].get<std::uint64_t>()) + " started, " + count(n["failed"].get<std::uint64_t>()) +
                    " failed)" + (reps > 1 ? " over " + std::to_string(reps) + " replications" : "") + " · " +
                    sec(r["run"]["simulated_s"]) + " s simulated";
  sub += " · " + esc(warmup_text(r).front());
  if (reps == 1) sub += " · one run (--replications R gives 95% intervals)";
  heading(p, "Session start-up: " + sc.name, sub);

  const double estimate = r["prepare_cost_s"]["mean"];
  const double mean = s["mean"];
  p.html("<div class=\"cards\">\n" + quantile_cards(s) +
         html_card("estimate", "broker's estimate", sec(estimate) + " <small>s</small>",
                   "queue-blind mean" +
                       (estimate > 0 ? "; simulated mean " + sec(mean) + " s is " + fmt("%.2g", mean / estimate) + "×"
                                     : "")) +
         "</div>\n");

  // The reading an operator wants first: how long, against what the broker promises, and why.
  std::string busiest;
  double busiest_u = -1;
  for (const auto& [name, pool] : r["pools"].items())
    if (pool["utilization"].get<double>() > busiest_u) busiest_u = pool["utilization"], busiest = name;
  double busiest_wait = 0;
  for (const auto& [name, k] : r["kinds"].items())
    if (k["pool"] == busiest) busiest_wait = std::max(busiest_wait, k["wait_s"]["mean"].get<double>());
  std::string lead = "Half the sessions were ready within <b>" + sec(s["p50"]) + " s</b>, 19 in 20 within <b>" +
                     sec(s["p95"]) + " s</b> and 99 in 100 within <b>" + sec(s["p99"]) + " s</b>.";
  if (estimate > 0) lead += " The broker's queue-blind estimate is " + sec(estimate) + " s.";
  if (!busiest.empty())
    lead += " The busiest pool is <b>" + esc(busiest) + "</b>: " + pct(busiest_u) + " of its " +
            std::to_string(r["pools"][busiest]["threads"].get<int>()) + " threads' time, and its steps wait " +
            sec(busiest_wait) + " s on average for a thread.";
  lead += pending_reading(r) + link_reading(r);
  p.html("<p class=\"lead\">" + lead + "</p>\n");

  p.html("<h2>Start-up time</h2>\n<div class=\"grid\">\n");
  p.chart("startup-histogram", charts::startup_histogram(s, estimate), "half");
  p.chart("startup-cdf", charts::startup_cdf(s), "half");
  p.chart("startup-split", charts::startup_split(s));
  p.html("</div>\n");
  cluster_section(p, r);
  link_section(p, sc, r);

  p.html("<h2>Pools and step kinds</h2>\n<div class=\"grid\">\n");
  p.chart("wait", charts::per_kind(r["kinds"], "wait_s", "Queue wait (READY → claimed), s"), "half");
  p.chart("service", charts::per_kind(r["kinds"], "service_s", "Service time (thread held per claim), s"), "half");
  p.chart("utilization", charts::utilization(r["pools"]), "half");
  p.html("</div>\n");
  std::vector<std::vector<std::string>> rows;
  const bool shared = r["pools"].size() < r["kinds"].size();  // else a pool is its kind
  for (const auto& [name, k] : r["kinds"].items()) {
    const bool theory = k.contains("analytic") && k["analytic"]["wait_s"].is_object();
    std::vector<std::string> row = {esc(name)};
    if (shared) row.push_back(esc(k["pool"].get<std::string>()));
    for (const auto& c : {std::to_string(k["threads"].get<int>()), count(k["steps"].get<std::uint64_t>()),
                          sec(k["wait_s"]["mean"]), sec(k["wait_s"]["p95"]),
                          theory ? sec(k["analytic"]["wait_s"]["mean"]) : std::string("–"), sec(k["service_s"]["mean"]),
                          sec(k["service_s"]["p95"]), pct(k["utilization"]), count(k["requeues"].get<std::uint64_t>())})
      row.push_back(c);
    rows.push_back(row);
  }
  std::vector<std::string> head = {"kind"};
  if (shared) head.push_back("pool");
  for (const char* c : {"threads", "steps", "wait mean, s", "wait p95", "theory mean", "service mean", "service p95",
                        "util", "requeues"})
    head.push_back(c);
  table(p, head, rows);

  ojson threads = ojson::object();
  for (const auto& [name, pool] : r["pools"].items()) threads[name] = pool["threads"];
  p.html("<h2>Over time</h2>\n");
  if (r["timeline"].contains("replication"))
    p.html("<p class=\"sub\">Replication 0 of " + std::to_string(reps) + " (series over time are not averaged).</p>\n");
  p.html("<div class=\"grid\">\n");
  p.chart("ready-over-time", charts::ready_over_time(r["timeline"], "simulated time"));
  p.chart("busy-over-time", charts::busy_over_time(r["timeline"], threads, "simulated time"));
  p.html("</div>\n");

  failures(p, r["failures"]["reasons"]);
  scenario_section(p, sc);
  p.write(path);
}

void write_tune_report(const std::string& path, const Scenario& sc, const ojson& t) {
  HtmlPage p("stepq tune: " + sc.name, t);
  const bool met = t["met"];
  std::string targets;
  for (const auto& [name, v] : t["targets"].items())
    targets += (targets.empty() ? "" : ", ") + name + " ≤ " + sec(v) + " s";
  heading(p, "Pool sizes for " + sc.name,
          "stepq tune · targets " + esc(targets) + " · " + std::to_string(t["search"]["evaluations"].get<int>()) +
              " configurations simulated (" + std::to_string(t["search"]["replications"].get<int>()) +
              " replications each)");
  const auto& s = t["startup_s"];
  ojson chosen_threads = ojson::object();
  for (const auto& [name, pool] : t["pools"].items()) chosen_threads[name] = pool["threads"];
  const std::string config = esc(threads_text(chosen_threads));
  p.html("<div class=\"cards\">\n" +
         html_card("", met ? "targets met with" : "targets NOT met within",
                   std::to_string(t["total_threads"].get<int>()) + " <small>threads</small>", config) +
         quantile_cards(s) + "</div>\n");
  std::string lead =
      met ? "<span class=\"good\">Every target holds</span>" : "<span class=\"bad\">The targets cannot be met</span>";
  lead += " with " + config + " (" + std::to_string(t["total_threads"].get<int>()) + " threads, cost " +
          fmt("%.4g", t["cost"].get<double>()) + "). Checked with " +
          std::to_string(t["verified"]["replications"].get<int>()) + " replications on fresh seeds:";
  for (const auto& [name, v] : t["verified_values"].items())
    lead += " " + esc(name) + " " + sec(v) + " s" +
            (v.get<double>() <= t["targets"][name].get<double>() ? " (met)" : " (missed)");
  lead += ". The search stopped: " + esc(t["search"]["stopped"].get<std::string>()) + ".";
  p.html("<p class=\"lead\">" + lead + "</p>\n");

  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, pool] : t["pools"].items())
    rows.push_back({esc(name), std::to_string(pool["threads"].get<int>()),
                    fmt("%.3g", pool["cost_per_thread"].get<double>()), pct(pool["utilization"].get<double>())});
  p.html("<h2>Chosen configuration</h2>\n");
  table(p, {"pool", "threads", "cost per thread", "utilization"}, rows);

  p.html("<h2>Search</h2>\n<div class=\"grid\">\n");
  p.chart("tune-path", charts::tune_path(t), "half");
  p.chart("startup-histogram", charts::startup_histogram(s, 0), "half");
  p.chart("tune-rates", charts::tune_rates(t), "wide");
  p.html("</div>\n");
  rows.clear();
  const auto& path_steps = t["search"]["path"];
  for (std::size_t i = 0; i < path_steps.size(); ++i) {
    std::string vals;
    for (const auto& [name, v] : path_steps[i]["values"].items())
      vals += (vals.empty() ? "" : ", ") + name + " " + sec(v);
    rows.push_back({std::to_string(i), std::to_string(path_steps[i]["total_threads"].get<int>()), vals,
                    esc(path_steps[i]["action"].get<std::string>()), esc(threads_text(path_steps[i]["threads"]))});
  }
  table(p, {"step", "threads", "value, s", "action", "configuration"}, rows, 3);
  if (t.contains("rates")) {
    rows.clear();
    for (const auto& l : t["rates"])
      rows.push_back({fmt("%gx", l["rate_factor"].get<double>()), fmt("%.4g", l["rate_per_s"].get<double>()),
                      l["met"].get<bool>() ? "met" : "not met",
                      l.contains("threads") ? esc(threads_text(l["threads"])) : esc(l.value("error", std::string()))});
    p.html("<h3>By load level</h3>\n");
    table(p, {"load", "sessions/s", "targets", "threads needed"}, rows, 3);
  }
  Scenario chosen = sc;
  for (auto& pool : chosen.pools) pool.threads = t["pools"][pool.name]["threads"];
  scenario_section(p, chosen);
  p.write(path);
}

void write_live_report(const std::string& path, const std::string& db, const ojson& st) {
  HtmlPage p("stepq live status: " + db, st);
  std::string phases;
  for (const auto& [phase, n] : st["sessions"].items()) phases += " · " + count(n.get<std::uint64_t>()) + " " + phase;
  const double scale = st["time_scale"];
  heading(p, "Live engine: " + db,
          "stepq live status" + esc(phases) +
              (scale != 1 ? " · durations in model seconds (÷ time scale " + fmt("%g", scale) + ")"
                          : " · durations in wall seconds"));
  const auto& s = st["startup_s"];
  const auto completed = s["count"].get<std::uint64_t>();
  p.html("<div class=\"cards\">\n" + quantile_cards(s) +
         html_card("", "completed sessions", count(completed), "start-up = finished − submitted") + "</div>\n");

  p.html("<h2>Start-up time</h2>\n<div class=\"grid\">\n");
  p.chart("startup-histogram", charts::startup_histogram(s, 0), "half");
  p.chart("startup-cdf", charts::startup_cdf(s), "half");
  p.html("</div>\n<h2>Step kinds</h2>\n<div class=\"grid\">\n");
  p.chart("wait", charts::per_kind(st["kinds"], "wait_s", "Queue wait (READY → claimed), s"), "half");
  p.chart("service", charts::per_kind(st["kinds"], "service_s", "Service time (claimed → finished), s"), "half");
  p.html("</div>\n<h2>Over time (from the execution log)</h2>\n<div class=\"grid\">\n");
  p.chart("ready-over-time", charts::ready_over_time(st["timeline"], "time since the first step was READY"));
  p.chart("busy-over-time",
          charts::busy_over_time(st["timeline"], ojson::object(), "time since the first step was READY"));
  p.html("</div>\n");

  std::vector<std::vector<std::string>> rows;
  for (const auto& pr : st["processors"])
    rows.push_back({std::to_string(pr["id"].get<long long>()), esc(pr["host"].get<std::string>()),
                    std::to_string(pr["pid"].get<long long>()), esc(pr["state"].get<std::string>()),
                    fmt("%.1f s ago", pr["heartbeat_age_s"].get<double>()), count(pr["running"].get<std::uint64_t>()),
                    esc(pr["pools"].get<std::string>())});
  if (!rows.empty()) {
    p.html("<h2>Processors</h2>\n");
    table(p, {"id", "host", "pid", "state", "heartbeat", "running", "pools"}, rows, 6);
  }
  ojson reasons = ojson::array();
  for (const auto& [why, n] : st["failures"]["reasons"].items()) reasons.push_back({{"reason", why}, {"sessions", n}});
  failures(p, reasons);
  p.write(path);
}

void write_forecast_report(const std::string& path, const ojson& f) {
  const std::string db = f["db"];
  HtmlPage p("stepq forecast: " + db, f);
  heading(p, "Forecast from " + db,
          "stepq forecast · " + count(f["replications"].get<std::uint64_t>()) + " replications of " +
              esc(f["scenario"].get<std::string>()) + " · " + count(f["in_startup"].get<std::uint64_t>()) +
              " sessions in start-up, " + count(f["past_startup"].get<std::uint64_t>()) +
              " past it · start-up in scenario seconds from acceptance");
  const ojson& n = f["new_session"];
  std::string cards;
  for (const char* q : {"p50", "p95", "p99"})
    if (n["startup_s"][q].is_number())
      cards += html_card(q, std::string("new session ") + q, sec(n["startup_s"][q]) + " <small>s</small>",
                         "a '" + esc(n["template"].get<std::string>()) + "' session submitted now");
  cards += html_card("estimate", "queue-blind estimate", sec(n["queue_blind_s"]) + " <small>s</small>",
                     "the broker's prepare cost: no queue, no waits");
  p.html("<div class=\"cards\">\n" + cards + "</div>\n");
  p.chart("forecast-offer", charts::forecast_offer(f));
  p.html("<h2>Sessions in start-up</h2>\n");
  p.chart("forecast-fan", charts::forecast_fan(f));
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : f["sessions"]) {
    if (rows.size() == 200) break;
    const auto q = [&](const char* k) { return s["startup_s"][k].is_number() ? sec(s["startup_s"][k]) : "-"; };
    rows.push_back({std::to_string(s["id"].get<std::uint64_t>()), esc(s["template"].get<std::string>()),
                    sec(s["age_s"]), q("p50"), q("p95"), pct(s["failed_fraction"].get<double>())});
  }
  if (!rows.empty()) table(p, {"session", "template", "waited, s", "p50, s", "p95, s", "failed"}, rows, 1);
  p.write(path);
}

}  // namespace stepq
