#include "validate.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "reports/link_section.hpp"

namespace stepq {

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::string gb(double bytes) { return num(bytes / 1e9) + " GB"; }

// Whole seconds in full (21600, not 2.16e+04): lifetimes and intervals read as written.
std::string whole_s(double v) {
  char b[32];
  std::snprintf(b, sizeof b, v == static_cast<double>(static_cast<long long>(v)) && v < 1e12 ? "%.0f" : "%.4g", v);
  return b;
}

constexpr std::size_t kColumns = 100;

// Writes `line` followed by `parts`, each after `sep`, starting a new line indented by `indent`
// where the next part would pass kColumns; a part too long for a line of its own breaks after
// its " | " separators (replica sets).
void wrapped(std::ostream& out, std::string line, const std::vector<std::string>& parts, const std::string& sep,
             const std::string& indent) {
  for (const auto& part : parts) {
    if (line.size() + sep.size() + part.size() <= kColumns) {
      line += sep + part;
      continue;
    }
    out << line << (sep == "; " ? ";" : "") << "\n";
    std::vector<std::string> pieces;  // later ones start with "| "
    std::size_t from = 0;
    for (std::size_t bar; (bar = part.find(" | ", from)) != std::string::npos; from = bar + 1)
      pieces.push_back(part.substr(from, bar - from));
    pieces.push_back(part.substr(from));
    line = indent + pieces[0];
    for (std::size_t i = 1; i < pieces.size(); ++i) {
      if (line.size() + 1 + pieces[i].size() <= kColumns) {
        line += " " + pieces[i];
      } else {
        out << line << "\n";
        line = indent + "  " + pieces[i];
      }
    }
  }
  out << line << "\n";
}

// The steps an item with a "count" became (ID#1 .. ID#n), all of whose `after` and costs agree.
int copies_of(const TemplateSpec& t, const PlanStep& ps) {
  int n = 0;
  for (const auto& o : t.steps) n += o.count && o.first_copy == ps.first_copy;
  return n;
}

// "ms#1..ms#4": the copies of an item, named once.
std::string copies_name(const TemplateSpec& t, const PlanStep& ps) {
  const std::string base = ps.id.substr(0, ps.id.rfind('#'));
  return base + "#1.." + base + "#" + std::to_string(copies_of(t, ps));
}

// Step numbers as ids, the copies of an item with a count named together when all are listed.
std::string step_names(const TemplateSpec& t, const std::vector<int>& steps) {
  std::string s;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PlanStep& ps = t.steps[steps[i]];
    std::size_t j = i;
    if (ps.count && ps.copy == 0) {
      const int n = copies_of(t, ps);
      while (j + 1 < steps.size() && j + 1 - i < static_cast<std::size_t>(n) && t.steps[steps[j + 1]].count &&
             t.steps[steps[j + 1]].first_copy == ps.first_copy)
        ++j;
      if (j + 1 - i < static_cast<std::size_t>(n)) j = i;  // only some of them: name each
    }
    s += " " + (j > i ? copies_name(t, ps) : ps.id);
    i = j;
  }
  return s;
}

std::string transfer_text(const KindSpec& k) {
  const TransferSpec& tr = *k.transfer;
  if (!tr.replicas.empty()) return "transfer -> " + tr.to + "; replicas: " + replicas_text(tr.replicas, tr.to);
  // Without a rule a data step's thread waits for the bytes (the synchronous style).
  return "transfer " + tr.from + " -> " + tr.to +
         (k.op == Op::data && !k.rule ? ", the thread waits for the bytes" : "");
}
}  // namespace

void print_validation(std::ostream& out, const Scenario& sc) {
  out << sc.file << ": valid scenario '" << sc.name << "'\n";
  out << "  sessions: " << (sc.sessions ? std::to_string(*sc.sessions) : "arriving for " + num(*sc.duration_s) + " s");
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
  out << "\n  dispatch: "
      << (sc.dispatch.mode == DispatchSpec::Mode::notify ? "notify"
                                                         : "poll every " + num(sc.dispatch.poll_interval_s) + " s")
      << ", claim cost " << num(sc.dispatch.claim_s) << " s, dependencies "
      << (sc.dispatch.dependencies == DispatchSpec::Dependencies::activate
              ? "activate"
              : "recheck every " + num(sc.dispatch.recheck_s) + " s")
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
      out << (g ? " + " : "") << c.nodes[g].count << " x " << num(c.nodes[g].cores) << " cores/"
          << num(c.nodes[g].memory_GB) << " GB";
    out << ")\n      " << num(c.total_cores()) << " cores, " << num(c.total_memory_GB()) << " GB; admission "
        << (c.admission == ClusterSpec::Admission::fifo ? "fifo" : "backfill");
    if (c.user_limit > 0) out << ", at most " << c.user_limit << " sessions per user";
    out << "\n";
  }
  if (!sc.platform.areas.empty()) out << "\n  storage areas:\n";
  for (const auto& a : sc.platform.areas)
    out << "    " << a.name << ": quota " << num(a.quota_bytes / 1e9) << " GB; when full "
        << (a.when_full == StorageArea::WhenFull::fail ? "the storage step fails"
                                                       : "it waits " + num(a.recheck_s) + " s and tries again")
        << "\n";
  if (!sc.platform.links.empty()) {
    out << "\n  links (hosts";
    for (std::size_t h = 0; h < sc.platform.hosts.size(); ++h) out << (h ? ", " : " ") << sc.platform.hosts[h];
    out << "):\n";
  }
  for (const auto& l : sc.platform.links) {
    out << "    " << l.name << ": " << num(l.bandwidth_Bps / 1e6) << " MB/s, latency " << num(l.latency_s) << " s";
    if (l.max_active > 0) out << ", max_active " << l.max_active << " (FTS: the rest wait)";
    out << "\n";
  }
  if (!sc.platform.routes.empty()) out << "\n  routes:\n";
  for (const auto& r : sc.platform.routes) {
    out << "    " << r.from << " -> " << r.to << ":";
    for (std::size_t h = 0; h < r.links.size(); ++h) out << (h ? ", " : " ") << sc.platform.links[r.links[h]].name;
    out << "; latency " << num(r.latency_s) << " s; bottleneck " << num(r.bottleneck_Bps / 1e6) << " MB/s\n";
  }
  out << "\n  kinds:\n";
  for (const auto& k : sc.kinds) {
    std::vector<std::string> parts = {"service " + k.service_s.describe()};
    if (k.poll)
      parts.push_back("poll every " + num(k.poll->interval_s) + " s, " +
                      (k.poll->watch_rules ? "watches rules (ready when its data steps' bytes have moved)"
                                           : "ready after " + k.poll->ready_after_s.describe()));
    if (k.transfer) parts.push_back(transfer_text(k));
    if (k.rule) parts.push_back("rule: submit, bytes move after " + k.rule->delay_s.describe() + " (asynchronous)");
    if (k.retry.max_attempts > 1 || k.retry.failure_probability > 0)
      parts.push_back("fails " + num(k.retry.failure_probability) + ", " + std::to_string(k.retry.max_attempts) +
                      " attempts");
    // Clauses wrap onto indented lines rather than past 100 columns.
    wrapped(out, "    " + k.name + " (" + std::string(to_string(k.op)) + "): " + parts[0],
            {parts.begin() + 1, parts.end()}, "; ", "      ");
  }
  // Staged data's cost by the staging model (submit, rule delay, bytes over the fastest route,
  // weighted over the replica sets), for kinds that carry the broker's own figure instead.
  auto broker_figure = [](const KindSpec& k) { return k.op == Op::data && k.transfer && k.prepare_cost_s; };
  std::optional<Scenario> staging;  // a copy only where needed: a trace's arrivals can be long
  for (const auto& k : sc.kinds)
    if (broker_figure(k) && !staging) staging = sc;
  if (staging)
    for (auto& k : staging->kinds)
      if (broker_figure(k)) k.prepare_cost_s.reset();
  auto staged = [&](const PlanStep& ps) {
    return broker_figure(sc.kinds[ps.kind]) ? staging->prepare_cost(ps) : sc.prepare_cost(ps);
  };
  bool explained = false;
  auto print_step = [&](const TemplateSpec& t, int s, bool release) {
    const PlanStep& ps = t.steps[s];
    if (ps.count && ps.copy > 0) return;  // printed with its first copy
    const KindSpec& k = sc.kinds[ps.kind];
    const std::string indent = release ? "      " : "    ";
    std::string head = indent + (ps.count ? copies_name(t, ps) : ps.id) + "  [" + k.name + "]  " +
                       (release ? "cost " : "prepare cost ") + num(sc.prepare_cost(ps)) + " s";
    if (const double c = staged(ps); c != sc.prepare_cost(ps)) head += ", staging " + num(c) + " s";
    std::vector<std::string> parts;
    if (k.op == Op::storage || k.op == Op::data) {
      std::string m(to_string(ps.mount));
      if (ps.area >= 0) m += " in " + sc.platform.areas[ps.area].name + ", " + gb(ps.bytes);
      if (ps.output_bytes > 0) m += ", output " + gb(ps.output_bytes);
      parts.push_back(m);
    }
    if (k.op == Op::pushback) parts.push_back("moves " + gb(ps.bytes));
    if (k.op == Op::data && k.transfer && (ps.bytes_given || ps.bytes_dist))
      parts.push_back("bytes " +
                      (ps.bytes_dist ? ps.bytes_dist->describe() + " (mean " + gb(ps.bytes) + ")" : gb(ps.bytes)));
    if (!ps.replicas.empty()) parts.push_back("replicas: " + replicas_text(ps.replicas, k.transfer->to));
    if (ps.count)
      parts.push_back("count " + ps.count->describe() + " (up to " + std::to_string(copies_of(t, ps)) + ")");
    if (!ps.after.empty()) parts.push_back("after" + step_names(t, ps.after));
    wrapped(out, head, parts, "  ", indent + "  ");
  };
  for (const auto& t : sc.templates) {
    out << "\n  template '" << t.name << "' (weight " << num(t.weight) << "): " << t.startup_steps << " start-up step"
        << (t.startup_steps == 1 ? "" : "s");
    if (t.has_release()) out << ", " << t.release_end() - t.startup_steps << " release";
    out << "\n";
    if (t.session) {
      out << "    session: ";
      if (t.clustered())
        out << "on " << sc.platform.clusters[t.session->cluster].name << ", " << t.session->cores.describe()
            << " cores, " << t.session->memory_GB.describe() << " GB\n      ";
      out << "runs " << t.session->run_s.describe() << " once Running\n";
    }
    for (int s : t.plan.topo) print_step(t, s, false);
    out << "    total prepare cost (critical path): " << num(t.total_prepare_cost_s) << " s";
    const double with_staging = t.plan.critical_path([&](int s) { return staged(t.steps[s]); });
    if (with_staging != t.total_prepare_cost_s) {
      out << "; with staging costs " << num(with_staging) << " s";
      if (!explained)
        out << "\n      (prepare cost: the broker's figure where the kind gives one; staging: the service time,"
               "\n      then, by each replica set's chance, the rule's delay if the kind has one and the bytes"
               "\n      over the fastest route alone; a local replica moves nothing)";
      explained = true;
    }
    out << "\n";
    if (t.has_release()) {
      out << "    release, when the session ends (or fails):\n";
      for (int s : t.release_plan.topo) print_step(t, s, true);
    }
    if (t.lease) {
      const PlanStep& ps = t.steps[t.lease_step];
      wrapped(out, "    " + ps.id + "  [" + sc.kinds[ps.kind].name + "]  cost " + num(sc.prepare_cost(ps)) + " s",
              {"every " + whole_s(t.lease->every_s) + " s while the session runs (replicas live " +
               whole_s(t.lease->lifetime_s) + " s)"},
              "  ", "      ");
    }
  }
}

}  // namespace stepq
