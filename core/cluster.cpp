#include "cluster.hpp"

#include <algorithm>

namespace stepq {

namespace {
constexpr double kFit = 1e-9;  // cores and memory are summed in floating point: fit within this
}

ClusterState::ClusterState(const ClusterSpec& spec, std::uint64_t users) : spec_(spec) {
  for (const auto& g : spec.nodes)
    for (int i = 0; i < g.count; ++i) nodes_.push_back({g.cores, g.memory_GB});
  if (spec.user_limit > 0) held_.assign(users, 0);
}

ClusterState::ClusterState(const ClusterSpec& spec, const std::vector<std::pair<double, double>>& free,
                           std::vector<Request> queue)
    : spec_(spec), queue_(queue.begin(), queue.end()) {
  for (const auto& [cores, memory] : free) nodes_.push_back({cores, memory});
}

bool ClusterState::submit(const Request& r) {
  if (!held_.empty()) {
    if (held_[r.user] >= static_cast<std::uint32_t>(spec_.user_limit)) return false;
    held_[r.user]++;
  }
  queue_.push_back(r);
  return true;
}

int ClusterState::first_fit(const Request& r) const {
  for (std::size_t n = 0; n < nodes_.size(); ++n)
    if (nodes_[n].cores + kFit >= r.cores && nodes_[n].memory_GB + kFit >= r.memory_GB) return static_cast<int>(n);
  return -1;
}

void ClusterState::place(const Request& r, int node) {
  nodes_[node].cores -= r.cores;
  nodes_[node].memory_GB -= r.memory_GB;
  used_cores_ += r.cores;
  used_memory_GB_ += r.memory_GB;
  placed_.emplace(r.id, std::make_pair(r, node));
}

void ClusterState::restore_placed(const Request& r, int node) {
  if (!held_.empty()) held_[r.user]++;
  place(r, node);
}

std::vector<ClusterState::Placement> ClusterState::admit() {
  std::vector<Placement> out;
  const bool fifo = spec_.admission == ClusterSpec::Admission::fifo;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const int n = first_fit(*it);
    if (n < 0) {
      if (fifo) break;  // the oldest blocks those behind it
      ++it;
      continue;
    }
    place(*it, n);
    out.push_back({it->id, n});
    it = queue_.erase(it);
  }
  return out;
}

ClusterState::Released ClusterState::release(std::uint64_t id) {
  if (auto p = placed_.find(id); p != placed_.end()) {
    const auto& [r, node] = p->second;
    nodes_[node].cores += r.cores;
    nodes_[node].memory_GB += r.memory_GB;
    used_cores_ -= r.cores;
    used_memory_GB_ -= r.memory_GB;
    if (!held_.empty()) held_[r.user]--;
    placed_.erase(p);
    return Released::placed;
  }
  const auto q = std::find_if(queue_.begin(), queue_.end(), [&](const Request& r) { return r.id == id; });
  if (q == queue_.end()) return Released::unknown;
  if (!held_.empty()) held_[q->user]--;
  queue_.erase(q);
  return Released::queued;
}

}  // namespace stepq
