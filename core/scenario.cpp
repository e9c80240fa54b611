#include "scenario.hpp"

#include <algorithm>
#include <cmath>

#include "rng.hpp"

namespace stepq {

std::string_view to_string(Op op) {
  switch (op) {
    case Op::work: return "work";
    case Op::image: return "image";
    case Op::storage: return "storage";
    case Op::data: return "data";
    case Op::launch: return "launch";
    case Op::poll: return "poll";
    case Op::remove: return "delete";
    case Op::cleanup: return "cleanup";
    case Op::pushback: return "pushback";
    case Op::extend: return "extend";
  }
  return "?";
}

bool is_release_op(Op op) { return op == Op::remove || op == Op::cleanup || op == Op::pushback; }

std::string_view to_string(Mount m) {
  switch (m) {
    case Mount::read_only: return "ReadOnly";
    case Mount::write_temp: return "WriteTemp";
    case Mount::write_local: return "WriteLocal";
    case Mount::write_global: return "WriteGlobal";
  }
  return "?";
}

int ClusterSpec::node_count() const {
  int n = 0;
  for (const auto& g : nodes) n += g.count;
  return n;
}
double ClusterSpec::total_cores() const {
  double c = 0;
  for (const auto& g : nodes) c += g.count * g.cores;
  return c;
}
double ClusterSpec::total_memory_GB() const {
  double m = 0;
  for (const auto& g : nodes) m += g.count * g.memory_GB;
  return m;
}

int PlatformSpec::cluster_index(std::string_view n) const {
  for (std::size_t i = 0; i < clusters.size(); ++i)
    if (clusters[i].name == n) return static_cast<int>(i);
  return -1;
}

int PlatformSpec::area_index(std::string_view n) const {
  for (std::size_t i = 0; i < areas.size(); ++i)
    if (areas[i].name == n) return static_cast<int>(i);
  return -1;
}

std::uint64_t UsersSpec::user_of(std::uint64_t seed, std::uint64_t session) const {
  Stream r(derive(session_key(seed, session), static_cast<std::uint64_t>(Purpose::user)));
  const double u = r.uniform();
  if (cdf.empty()) return std::min(count - 1, static_cast<std::uint64_t>(u * static_cast<double>(count)));
  return std::min<std::uint64_t>(count - 1, std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
}

double RetrySpec::backoff_before(int next_attempt) const {
  return backoff_s * std::pow(backoff_factor, next_attempt - 2);
}

int Scenario::kind_index(std::string_view n) const {
  for (std::size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i].name == n) return static_cast<int>(i);
  return -1;
}

int Scenario::template_index(std::string_view n) const {
  for (std::size_t i = 0; i < templates.size(); ++i)
    if (templates[i].name == n) return static_cast<int>(i);
  return -1;
}

int Scenario::template_for(std::uint64_t index) const {
  if (templates.size() == 1) return 0;
  double total = 0;
  for (const auto& t : templates) total += t.weight;
  Stream pick(derive(session_key(seed, index), static_cast<std::uint64_t>(Purpose::template_choice)));
  const double u = pick.uniform() * total;
  double c = 0;
  int t = 0;
  while (t + 1 < static_cast<int>(templates.size()) && u >= (c += templates[t].weight)) ++t;
  return t;
}

int PlatformSpec::route_between(std::string_view a, std::string_view b) const {
  for (std::size_t i = 0; i < routes.size(); ++i)
    if ((routes[i].from == a && routes[i].to == b) || (routes[i].from == b && routes[i].to == a))
      return static_cast<int>(i);
  return -1;
}

int PlatformSpec::fastest_route(const std::vector<std::string>& hosts, const std::string& to, double bytes,
                                std::size_t* chosen) const {
  int best = -1;
  double best_s = 0;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i] == to) {
      if (chosen) *chosen = i;
      return -1;
    }
    const int r = route_between(hosts[i], to);
    if (r < 0) continue;  // the loader refuses such a replica
    const double s = routes[r].time_alone(bytes);
    if (best < 0 || s < best_s) {
      best = r, best_s = s;
      if (chosen) *chosen = i;
    }
  }
  return best;
}

namespace {
const std::vector<ReplicaChoice>& replicas_of(const KindSpec& k, const PlanStep& step) {
  return step.replicas.empty() ? k.transfer->replicas : step.replicas;
}
}  // namespace

Scenario::Source Scenario::source(int tmpl, int step_no, std::uint64_t key) const {
  const PlanStep& step = templates[tmpl].steps[step_no];
  const KindSpec& k = kinds[step.kind];
  Source src;
  src.bytes = step.bytes;
  if (step.bytes_dist) {
    Stream r = step_stream(key, step_no, 0, Purpose::bytes);
    src.bytes = step.bytes_dist->sample(r);
  }
  if (!k.transfer) return src;
  const auto& choices = replicas_of(k, step);
  std::vector<std::string> hosts = {k.transfer->from};
  if (!choices.empty()) {
    std::size_t pick = 0;
    if (choices.size() > 1) {
      double total = 0;
      for (const auto& c : choices) total += c.weight;
      Stream r = step_stream(key, step_no, 0, Purpose::replica);
      const double u = r.uniform() * total;
      double cum = 0;
      while (pick + 1 < choices.size() && u >= (cum += choices[pick].weight)) ++pick;
    }
    hosts = choices[pick].hosts;
  }
  std::size_t chosen = 0;
  src.route = platform.fastest_route(hosts, k.transfer->to, src.bytes, &chosen);
  src.host = hosts[chosen];
  return src;
}

bool Scenario::absent(const PlanStep& step, std::uint64_t key) const {
  if (!step.count) return false;
  Stream r = step_stream(key, step.first_copy, 0, Purpose::count);
  return step.copy >= static_cast<int>(std::lround(step.count->sample(r)));
}

double Scenario::prepare_cost(const PlanStep& step) const {
  const KindSpec& k = kinds[step.kind];
  if (k.prepare_cost_s) return *k.prepare_cost_s;
  double c = (step.service_s ? *step.service_s : k.service_s).mean();
  const bool copied = !(k.op == Op::data && step.mount == Mount::read_only);  // ReadOnly: linked, not copied
  if (k.transfer && step.bytes > 0 && copied) {
    // Each replica set weighted by its probability; within a set, the fastest route (a local
    // replica costs nothing to move).
    const auto& choices = replicas_of(k, step);
    const std::vector<ReplicaChoice> only_from = {{1, {k.transfer->from}}};
    double total = 0, moved = 0;
    for (const auto& ch : choices.empty() ? only_from : choices) {
      const int r = platform.fastest_route(ch.hosts, k.transfer->to, step.bytes);
      double best = r < 0 ? 0 : platform.routes[r].time_alone(step.bytes);
      if (best > 0 && k.rule) best += k.rule->delay_s.mean();  // a rule is made only to copy
      total += ch.weight, moved += ch.weight * best;
    }
    c += moved / total;
  }
  if (k.poll && !k.poll->watch_rules) c += k.poll->ready_after_s.mean();
  return c;
}

}  // namespace stepq
