#include "store.hpp"

#include <algorithm>

#include "core/fluid_links.hpp"
#include "core/scenario.hpp"

namespace stepq::live {

InitialStep initial_step(const Scenario& sc, int tmpl, int step) {
  const TemplateSpec& tp = sc.templates[tmpl];
  const bool startup = step < tp.startup_steps;
  const bool root = tp.preds(step).empty();
  return {root && startup, startup && (sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck || root)};
}

void add_execution(LiveStatus& st, std::size_t kind, double ready_at, double started_at, std::optional<double> ended_at,
                   const std::string& outcome) {
  st.over_time.ensure_series(st.kinds.size());
  st.over_time.add(kind, IntervalBins::ready, ready_at, started_at);
  st.over_time.add(kind, IntervalBins::busy, started_at, ended_at.value_or(st.now));
  if (!ended_at) return;  // running: no wait or service to count yet
  auto& k = st.kinds[kind];
  k.executions++;
  k.wait_s.add(std::max(0.0, started_at - ready_at));
  if (outcome == "reaped" || outcome == "released") {
    k.reaped += outcome == "reaped";
    return;  // it did not run to an end: its duration is not a service time
  }
  k.service_s.add(std::max(0.0, *ended_at - started_at));
  if (outcome == "lost") k.lost++;
  if (outcome == "retry") k.retries++;
}

std::vector<std::pair<std::string, int>> pool_threads(const std::string& pools) {
  std::vector<std::pair<std::string, int>> out;
  std::size_t from = 0;
  while (from < pools.size()) {
    const std::size_t comma = std::min(pools.find(',', from), pools.size());
    const std::string part = pools.substr(from, comma - from);
    from = comma + 1;
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= part.size()) continue;
    const std::string n = part.substr(eq + 1);
    if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 6) continue;
    out.emplace_back(part.substr(0, eq), std::stoi(n));
  }
  return out;
}

void add_ready(LiveStatus& st, std::size_t kind, double ready_at) {
  st.over_time.ensure_series(st.kinds.size());
  st.over_time.add(kind, IntervalBins::ready, ready_at, st.now);
}

void add_transfer(LiveStatus& st, const std::string& links, int phase, double bytes, std::optional<double> arrived_at,
                  std::optional<double> started_at, double at) {
  std::size_t from = 0;
  while (from <= links.size()) {
    const std::size_t comma = std::min(links.find(',', from), links.size());
    const std::string name = links.substr(from, comma - from);
    from = comma + 1;
    auto it = std::find_if(st.links.begin(), st.links.end(), [&](const auto& l) { return l.name == name; });
    if (it == st.links.end()) {
      it = st.links.insert(st.links.end(), LiveStatus::Link{});
      it->name = name;
    }
    const auto p = static_cast<FluidLinks::Phase>(phase);
    if (p == FluidLinks::Phase::waiting) it->waiting++;
    if (p == FluidLinks::Phase::latency || p == FluidLinks::Phase::flowing) it->moving++;
    if (p != FluidLinks::Phase::done || !started_at) continue;
    it->transfers++;
    it->bytes += bytes;
    it->transfer_s.add(std::max(0.0, at - *started_at));
    if (arrived_at) it->slot_wait_s.add(std::max(0.0, *started_at - *arrived_at));
  }
}

std::string link_names(const PlatformSpec& p, int route) {
  std::string s;
  for (int l : p.routes[route].links) s += (s.empty() ? "" : ",") + p.links[l].name;
  return s;
}

void drop_unused_kinds(LiveStatus& st) {
  std::vector<std::size_t> new_row(st.kinds.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < st.kinds.size(); ++i) {
    std::uint64_t n = 0;
    for (auto c : st.kinds[i].steps) n += c;
    new_row[i] = n == 0 ? SIZE_MAX : kept;  // dropped
    if (n == 0) continue;
    if (kept != i) st.kinds[kept] = std::move(st.kinds[i]);  // never onto itself: that empties the name
    ++kept;
  }
  st.kinds.resize(kept);
  st.over_time.remap(new_row, kept);
}

}  // namespace stepq::live
