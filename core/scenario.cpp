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

const LinkSpec* Scenario::link_between(std::string_view from, std::string_view to) const {
  for (const auto& l : platform.links)
    if ((l.from == from && l.to == to) || (l.from == to && l.to == from)) return &l;
  return nullptr;
}

double Scenario::prepare_cost(const PlanStep& step) const {
  const KindSpec& k = kinds[step.kind];
  if (k.prepare_cost_s) return *k.prepare_cost_s;
  double c = (step.service_s ? *step.service_s : k.service_s).mean();
  const bool copied = !(k.op == Op::data && step.mount == Mount::read_only);  // ReadOnly: linked, not copied
  if (k.transfer && step.bytes > 0 && copied)
    if (const LinkSpec* l = link_between(k.transfer->from, k.transfer->to))
      c += l->latency_s + step.bytes / l->bandwidth_Bps;
  if (k.poll) c += k.poll->ready_after_s.mean();
  return c;
}

}  // namespace stepq
