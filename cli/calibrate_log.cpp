#include "cli/calibrate_log.hpp"

#include <algorithm>
#include <cmath>

#include "core/scenario_load.hpp"

namespace stepq {

KindLogs::KindLogs(const Scenario& base, double time_scale) : scale_(time_scale), routes_(base.platform.routes.size()) {
  for (const auto& k : base.kinds) {
    polls_[k.name] = k.poll && !k.poll->watch_rules;
    rules_[k.name] = k.rule.has_value();
  }
}

void KindLogs::transfer(const live::History::Transfer& t) {
  if (t.route < 0 || static_cast<std::size_t>(t.route) >= routes_)
    throw ScenarioError("the database has a transfer over route " + std::to_string(t.route) +
                        ", which the scenario lacks (it has " + std::to_string(routes_) +
                        "); give the scenario the engine ran");
  transfers.push_back({t.route, t.bytes, t.started_at / scale_, t.ended_at / scale_});
}

void KindLogs::session_run(const std::string& tmpl, double run) { runs[tmpl].push_back(run / scale_); }

void KindLogs::rule_delay(const std::string& kind, double delay) {
  const auto r = rules_.find(kind);
  if (r != rules_.end() && r->second) delays[kind].push_back(delay / scale_);
}

void KindLogs::restart() {
  kinds.clear();
  transfers.clear();
  runs.clear();
  delays.clear();
  rng_ = Stream(1);
}

void KindLogs::execution(const live::History::Execution& e) {
  KindLog& k = kinds[e.kind];
  k.executions++;
  if (e.outcome == "reaped" || e.outcome == "released") return;  // it did not run to an end
  const double s = (e.ended_at - e.started_at) / scale_;
  if (s > 0) {
    // Algorithm R: the i-th duration replaces a kept one with probability kMaxSamples / (i + 1).
    if (k.service.size() < kMaxSamples) {
      k.service.push_back(s);
    } else {
      const auto j = static_cast<std::size_t>(rng_.uniform() * static_cast<double>(k.ran + 1));
      if (j < kMaxSamples) k.service[j] = s;
    }
    k.ran++;
  }
  if (e.outcome == "completed" || e.outcome == "failed" || e.outcome == "retry") {
    k.attempts++;
    k.failures += e.outcome != "completed";
  }
  const auto p = polls_.find(e.kind);
  const double origin = std::isnan(e.admitted_at) ? e.activated_at : e.admitted_at;
  if (p != polls_.end() && p->second && !std::isnan(origin)) {
    KindLog::Looks& l = k.looks[{e.step, e.attempt}];
    // A poll decides when its look ends; a look while still Pending says nothing of the ready time.
    const double at = std::max(0.0, (e.ended_at - origin) / scale_);
    if (e.outcome == "requeue") l.last_not_ready = std::max(l.last_not_ready, at);
    if (e.outcome == "completed") l.ready = at;
  }
}

std::map<std::string, double> mean_threads(const std::vector<live::History::Processor>& processors) {
  std::map<std::string, double> thread_s;
  std::vector<std::pair<double, double>> alive;
  for (const auto& p : processors) {
    const double span = std::max(0.0, p.ended_at - p.started_at);
    if (span <= 0) continue;
    alive.emplace_back(p.started_at, p.ended_at);
    for (const auto& [pool, threads] : live::pool_threads(p.pools)) thread_s[pool] += threads * span;
  }
  // The union of the processors' lives: the time the queue had any worker.
  std::sort(alive.begin(), alive.end());
  double total = 0, from = 0, to = -1;
  for (const auto& [a, b] : alive) {
    if (a > to) {
      total += std::max(0.0, to - from);
      from = a, to = b;
    } else {
      to = std::max(to, b);
    }
  }
  total += std::max(0.0, to - from);
  std::map<std::string, double> mean;
  if (total > 0)
    for (const auto& [pool, ts] : thread_s) mean[pool] = ts / total;
  return mean;
}

}  // namespace stepq
