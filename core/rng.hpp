// Counter-based random streams.
//
// Contract: a Stream is a pure function of (key, draw number). Keys are derived from the
// scenario seed, the session index, the step index and the attempt, so a value never depends
// on the order in which actors or threads happen to run. That is what makes "changing a pool
// size does not change the workload" (common random numbers) true, in simulation and live.
#pragma once
#include <cstdint>

namespace stepq {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Mixes a sub-key into a key: derive(derive(seed, session), step) etc.
constexpr std::uint64_t derive(std::uint64_t key, std::uint64_t sub) {
  return splitmix64(key ^ splitmix64(sub + 0x632be59bd9b4e019ULL));
}

// Purposes keep independent draws of one step apart (service time vs. failure vs. poll-ready).
enum class Purpose : std::uint64_t {
  arrivals = 1,
  session = 2,
  step = 3,
  ready_after = 4,
  template_choice = 5,
  user = 6,       // which user a session belongs to
  request = 7,    // the cores and memory it asks of its cluster
  run = 8,        // how long it runs once Running
  bytes = 9,      // a transfer item's size, when it is a distribution
  replica = 10,   // which replica set a transfer item has
  count = 11,     // how many copies of an item with a count a session has
  rule = 12,      // an asynchronous rule's delay before its bytes move
  forecast = 13,  // a forecast replication's seed: never the live run's own, whose draws are its future
};

class Stream {
 public:
  explicit Stream(std::uint64_t key) : key_(key) {}
  std::uint64_t next() { return splitmix64(key_ + 0x9e3779b97f4a7c15ULL * ++n_); }
  // Uniform in (0, 1): never exactly 0 or 1, so log() and inverse CDFs are safe.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  std::uint64_t key_;
  std::uint64_t n_ = 0;
};

inline std::uint64_t session_key(std::uint64_t seed, std::uint64_t session) {
  return derive(derive(seed, static_cast<std::uint64_t>(Purpose::session)), session);
}
inline Stream step_stream(std::uint64_t session_key, int step, int attempt, Purpose p = Purpose::step) {
  return Stream(derive(derive(derive(session_key, static_cast<std::uint64_t>(p)), static_cast<std::uint64_t>(step)),
                       static_cast<std::uint64_t>(attempt)));
}

}  // namespace stepq
