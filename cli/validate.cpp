#include "validate.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace stepq {

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}
}  // namespace

void print_validation(std::ostream& out, const Scenario& sc) {
  out << sc.file << ": valid scenario '" << sc.name << "'\n";
  out << "  sessions: "
      << (sc.sessions ? std::to_string(*sc.sessions) : "arriving for " + num(*sc.duration_s) + " s");
  switch (sc.arrivals.process) {
    case ArrivalSpec::Process::poisson: out << ", Poisson arrivals at " << num(sc.arrivals.rate_per_s) << "/s"; break;
    case ArrivalSpec::Process::periodic: out << ", periodic arrivals at " << num(sc.arrivals.rate_per_s) << "/s"; break;
    case ArrivalSpec::Process::trace:
      out << ", " << sc.arrivals.times.size() << " arrivals from " << sc.arrivals.trace_file;
      break;
  }
  out << "\n  dispatch: " << (sc.dispatch.mode == DispatchSpec::Mode::notify ? "notify" : "poll every " + num(sc.dispatch.poll_interval_s) + " s")
      << ", claim cost " << num(sc.dispatch.claim_s) << " s, dependencies "
      << (sc.dispatch.dependencies == DispatchSpec::Dependencies::activate ? "activate" : "recheck every " + num(sc.dispatch.recheck_s) + " s")
      << "\n\n  pools:\n";
  for (const auto& p : sc.pools) {
    out << "    " << p.name << ": " << p.threads << " thread" << (p.threads == 1 ? "" : "s") << " serving";
    for (int k : p.kinds) out << " " << sc.kinds[k].name;
    out << "\n";
  }
  out << "\n  kinds:\n";
  for (const auto& k : sc.kinds) {
    std::vector<std::string> parts = {"service " + k.service_s.describe()};
    if (k.poll) parts.push_back("poll every " + num(k.poll->interval_s) + " s, ready after " + k.poll->ready_after_s.describe());
    if (k.transfer) parts.push_back("transfer " + k.transfer->from + " -> " + k.transfer->to);
    if (k.retry.max_attempts > 1 || k.retry.failure_probability > 0)
      parts.push_back("fails " + num(k.retry.failure_probability) + ", " + std::to_string(k.retry.max_attempts) + " attempts");
    // Clauses wrap onto indented lines rather than past 100 columns.
    std::string line = "    " + k.name + " (" + std::string(to_string(k.op)) + "): " + parts[0];
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (line.size() + 2 + parts[i].size() > 100) {
        out << line << ";\n";
        line = "      " + parts[i];
      } else {
        line += "; " + parts[i];
      }
    }
    out << line << "\n";
  }
  for (const auto& t : sc.templates) {
    out << "\n  template '" << t.name << "' (weight " << num(t.weight) << "): " << t.steps.size() << " steps\n";
    for (int s : t.plan.topo) {
      const PlanStep& ps = t.steps[s];
      out << "    " << ps.id << "  [" << sc.kinds[ps.kind].name << "]  prepare cost " << num(sc.prepare_cost(ps)) << " s";
      if (!ps.after.empty()) {
        out << "  after";
        for (int a : ps.after) out << " " << t.steps[a].id;
      }
      out << "\n";
    }
    out << "    total prepare cost (critical path): " << num(t.total_prepare_cost_s) << " s\n";
  }
}

}  // namespace stepq
