// The live queue at one instant, as `stepq forecast` starts a simulation from it (issue 17,
// item 2). Times are model seconds relative to that instant, so every recorded time is ≤ 0 and
// the simulation continues from time 0. Kinds and templates are the scenario's indexes.
#pragma once
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "phase.hpp"

namespace stepq {

struct QueueSnapshot {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  struct Step {
    Phase phase = Phase::DORMANT;
    int attempt = 1;
    double activated_at = kNone, ready_at = kNone, claimed_at = kNone;
    double due = kNone;  // WAITING: READY again then (≤ 0: overdue)
    // A poll step that has looked and found its thing not ready: the last look was this long
    // after the step was activated (its ready time lies beyond it).
    double not_ready_after = kNone;
  };
  // A session's request on its cluster (a template with one), as the live capacity holds it.
  struct Compute {
    enum class State { none, queued, placed, released } state = State::none;
    double cores = 0, memory_GB = 0;
    std::uint64_t user = 0;
    int node = -1;  // placed: which node, in the cluster's order
    double submitted_at = kNone, admitted_at = kNone, running_at = kNone;
  };
  struct Session {
    std::uint64_t index = 0;  // the session's id: the key of its random streams
    int tmpl = 0;
    double accepted = 0;
    double started_at = kNone;  // start-up complete then (it runs, or gives back what it held)
    bool ended = false;         // failed or cancelled: only its release steps are left
    std::vector<Step> steps;    // by step number, release steps after the start-up ones
    Compute compute;
    std::vector<std::pair<int, double>> temp;  // WriteTemp reservations still held: (area, bytes)
  };
  std::vector<Session> sessions;
  std::uint64_t next_index = 0;   // the index the next session to arrive takes
  std::vector<double> area_free;  // per storage area of the scenario: bytes free now (empty: none)
  // Transfers not yet done on the emulated platform's links, in the order they reached them: a
  // RUNNING step's copy (its service is behind it) or a rule's bytes.
  struct Transfer {
    std::uint64_t session = 0;
    int step = 0, attempt = 1, route = 0;
    double bytes_left = 0;
    double delay_left = 0;  // a rule still in its delay: this long until its bytes move
  };
  std::vector<Transfer> transfers;
};

}  // namespace stepq
