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
  if (const auto& u = sc.arrivals.users)
    out << "; " << u->count << " user" << (u->count == 1 ? "" : "s")
        << (u->zipf_s > 0 ? ", Zipf popularity (s = " + num(u->zipf_s) + ")" : ", equally active");
  out << "\n  dispatch: " << (sc.dispatch.mode == DispatchSpec::Mode::notify ? "notify" : "poll every " + num(sc.dispatch.poll_interval_s) + " s")
      << ", claim cost " << num(sc.dispatch.claim_s) << " s, dependencies "
      << (sc.dispatch.dependencies == DispatchSpec::Dependencies::activate ? "activate" : "recheck every " + num(sc.dispatch.recheck_s) + " s")
      << "\n\n  pools:\n";
  for (const auto& p : sc.pools) {
    out << "    " << p.name << ": " << p.threads << " thread" << (p.threads == 1 ? "" : "s") << " serving";
    for (int k : p.kinds) out << " " << sc.kinds[k].name;
    out << "\n";
  }
  if (!sc.platform.clusters.empty()) out << "\n  clusters:\n";
  for (const auto& c : sc.platform.clusters) {
    out << "    " << c.name << ": " << c.node_count() << " node" << (c.node_count() == 1 ? "" : "s") << " (";
    for (std::size_t g = 0; g < c.nodes.size(); ++g)
      out << (g ? " + " : "") << c.nodes[g].count << " x " << num(c.nodes[g].cores) << " cores/" << num(c.nodes[g].memory_GB)
          << " GB";
    out << ")\n      " << num(c.total_cores()) << " cores, " << num(c.total_memory_GB()) << " GB; admission "
        << (c.admission == ClusterSpec::Admission::fifo ? "fifo" : "backfill");
    if (c.user_limit > 0) out << ", at most " << c.user_limit << " sessions per user";
    out << "\n";
  }
  if (!sc.platform.areas.empty()) out << "\n  storage areas:\n";
  for (const auto& a : sc.platform.areas)
    out << "    " << a.name << ": quota " << num(a.quota_bytes / 1e9) << " GB; when full "
        << (a.when_full == StorageArea::WhenFull::fail ? "the storage step fails" : "it waits " + num(a.recheck_s) + " s and tries again")
        << "\n";
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
  auto print_step = [&](const TemplateSpec& t, int s, bool release) {
    const PlanStep& ps = t.steps[s];
    const KindSpec& k = sc.kinds[ps.kind];
    out << (release ? "      " : "    ") << ps.id << "  [" << k.name << "]  " << (release ? "cost " : "prepare cost ")
        << num(sc.prepare_cost(ps)) << " s";
    if (k.op == Op::storage || k.op == Op::data) out << "  " << to_string(ps.mount);
    if (ps.area >= 0) out << " in " << sc.platform.areas[ps.area].name << ", " << num(ps.bytes / 1e9) << " GB";
    if (ps.output_bytes > 0) out << ", output " << num(ps.output_bytes / 1e9) << " GB";
    if (k.op == Op::pushback) out << "  moves " << num(ps.bytes / 1e9) << " GB";
    if (!ps.after.empty()) {
      out << "  after";
      for (int a : ps.after) out << " " << t.steps[a].id;
    }
    out << "\n";
  };
  for (const auto& t : sc.templates) {
    out << "\n  template '" << t.name << "' (weight " << num(t.weight) << "): " << t.startup_steps << " start-up step"
        << (t.startup_steps == 1 ? "" : "s");
    if (t.has_release()) out << ", " << t.steps.size() - t.startup_steps << " release";
    out << "\n";
    if (t.session) {
      out << "    session: ";
      if (t.clustered())
        out << "on " << sc.platform.clusters[t.session->cluster].name << ", " << t.session->cores.describe() << " cores, "
            << t.session->memory_GB.describe() << " GB\n      ";
      out << "runs " << t.session->run_s.describe() << " once Running\n";
    }
    for (int s : t.plan.topo) print_step(t, s, false);
    out << "    total prepare cost (critical path): " << num(t.total_prepare_cost_s) << " s\n";
    if (t.has_release()) {
      out << "    release, when the session ends (or fails):\n";
      for (int s : t.release_plan.topo) print_step(t, s, true);
    }
  }
}

}  // namespace stepq
