// One cluster's admission and placement: the model behind "Pending" (scenario.hpp, ClusterSpec).
//
// Requests (a session's cores and memory) join one queue in the order they were submitted.
// admit() places what the policy lets go now — fifo: the oldest first, and one that fits no node
// blocks everything behind it (Kueue's StrictFIFO); backfill: every waiting request that fits,
// oldest first — each on the first node, in the cluster's order, with the cores and memory free.
// A user may hold at most user_limit requests, queued or placed; submit() refuses one more.
// release() gives a placed request's cores and memory back, or takes a queued one out.
//
// Pure and deterministic: no clock, no SimGrid, no database. The simulator's World drives one per
// cluster; so can anything that keeps the same state elsewhere.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "scenario.hpp"

namespace stepq {

class ClusterState {
 public:
  struct Request {
    std::uint64_t id = 0;  // the caller's: unique among requests not yet released
    double cores = 0, memory_GB = 0;
    std::uint64_t user = 0;
  };
  struct Placement {
    std::uint64_t id;
    int node;
  };

  // `users`: how many users sessions belong to (for user_limit).
  ClusterState(const ClusterSpec& spec, std::uint64_t users);
  // The state a database keeps, for one admission pass: each node's free cores and memory, in
  // node order, and the queue, oldest first (user limits are the database's to count).
  ClusterState(const ClusterSpec& spec, const std::vector<std::pair<double, double>>& free, std::vector<Request> queue);

  // false: refused, the user already holds user_limit requests (nothing changes).
  bool submit(const Request& r);
  // A request already placed on `node` elsewhere (a forecast restoring the live cluster): it holds
  // its cores, memory and user's count from now on, as if submitted and admitted.
  void restore_placed(const Request& r, int node);
  // Places what the admission policy lets go now, in the order placed.
  std::vector<Placement> admit();
  // Gives back a placed request or takes a queued one out. A request unknown here (never
  // submitted, refused, released before) is ignored.
  enum class Released { unknown, queued, placed };
  Released release(std::uint64_t id);

  std::size_t queued() const { return queue_.size(); }
  double used_cores() const { return used_cores_; }
  double used_memory_GB() const { return used_memory_GB_; }
  double free_cores(int node) const { return nodes_[node].cores; }
  double free_memory_GB(int node) const { return nodes_[node].memory_GB; }
  std::size_t nodes() const { return nodes_.size(); }
  std::uint32_t held_by(std::uint64_t user) const { return held_.empty() ? 0 : held_[user]; }

 private:
  struct Free {
    double cores, memory_GB;
  };
  int first_fit(const Request& r) const;
  void place(const Request& r, int node);

  const ClusterSpec& spec_;
  std::vector<Free> nodes_;                                            // the node groups expanded, in order
  std::deque<Request> queue_;                                          // submitted, not placed: oldest first
  std::unordered_map<std::uint64_t, std::pair<Request, int>> placed_;  // id → (request, node)
  std::vector<std::uint32_t> held_;                                    // per user, when there is a user_limit
  double used_cores_ = 0, used_memory_GB_ = 0;
};

// Why a submit was refused, the same words in every mode (failure reasons are counted by their
// text, so it names no user).
inline std::string user_limit_refusal(const ClusterSpec& spec) {
  return "cluster " + spec.name + ": user at user_limit (" + std::to_string(spec.user_limit) + " sessions)";
}

}  // namespace stepq
