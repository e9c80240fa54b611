// What the live stores share about a session's life beyond start-up (issue 14): what it draws at
// submission — the same numbers the simulator draws, from the same per-session streams — and
// when its release starts.
#pragma once
#include <cstdint>
#include <string>

namespace stepq {
struct Scenario;
}

namespace stepq::live {

struct SessionDraws {
  std::string cluster;  // empty: none
  double cores = 0, memory_GB = 0;
  std::uint64_t owner = 0;  // the user it belongs to
  double run_s = 0;         // scenario seconds it runs once Running
};
SessionDraws draw_session(const Scenario& sc, int tmpl, std::uint64_t index);

// When release starts (wall seconds): run_s after Running (scaled), never before `now`.
inline double release_at(double now, double running_at_or_now, double run_s, double time_scale) {
  const double end = running_at_or_now + run_s * time_scale;
  return end > now ? end : now;
}

}  // namespace stepq::live
