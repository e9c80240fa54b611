// Transfers sharing a platform's links, as a fluid: the network of the live `emulated` platform
// (the simulator has SimGrid's). A store loads the unfinished transfers into one, advances it to
// now, adds what starts, and writes it back, all in one transaction, so that every process sees
// one network. It reproduces what sim/network.cpp builds on SimGrid's CM02 model (as
// sim/simulation.cpp configures it), so that both modes time transfers alike:
//   - a transfer first takes a slot at each capped link of its route (FTS's max_active), in link
//     index order, waiting first come, first served at a full link while holding what it has;
//   - then its route's latency passes with no bytes moving;
//   - then its bytes flow. Flows share each link max-min fairly, weighted as CM02 weighs them: a
//     flow's share is proportional to 1 / (its route's latency), or to 1 when the route has none
//     (TCP's bias against long round trips; equal latencies share equally);
//   - when its last byte has arrived, each of its slots passes to the next transfer in line.
// Times are the caller's (the stores: wall seconds); `time_scale` converts the scenario's model
// seconds (bandwidths, latencies) to them.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "scenario.hpp"

namespace stepq {

class FluidLinks {
 public:
  enum class Phase : int { delayed = 0, waiting = 1, latency = 2, flowing = 3, done = 4 };
  struct Transfer {
    std::int64_t id = 0;
    std::int64_t session = 0;  // the step that moves it: one transfer per (session, step, attempt)
    int step = 0, attempt = 0;
    int route = 0;
    double bytes = 0, left = 0;
    Phase phase = Phase::delayed;
    // delayed: when it reaches its links; waiting: since when at its current link; latency: when
    // its bytes start; done: when its last byte arrived.
    double at = 0;
    int held = 0;            // slots held: its route's capped links, in index order, this many
    double arrived_at = 0;   // reached its links (the rule's delay over)
    double started_at = -1;  // held every slot (its latency began); -1: not yet
    bool added = false;      // new in this transaction: the store inserts it
    bool changed = false;    // the store writes it back
  };

  // `clock`: the time the unfinished transfers' state is valid at; `next_id`: larger than every id
  // in the store.
  FluidLinks(const PlatformSpec& p, double time_scale, double clock, std::vector<Transfer> unfinished,
             std::int64_t next_id);

  // Moves the network to `now`: bytes flow, transfers finish, slots pass on, delayed transfers
  // reach their links, latencies end. An earlier `now` changes nothing.
  void advance(double now);
  // A transfer of `bytes` over `route` for the given step, reaching its links at `at` (≥ the
  // clock: a rule's delay; else now). Returns its id. None when one for the same step and attempt
  // is unfinished (a step run again after its process lost its connection): its id is returned.
  std::int64_t add(std::int64_t session, int step, int attempt, int route, double bytes, double at);

  double clock() const { return clock_; }
  // When the next thing happens by itself (a finish, an arrival, a latency's end); none when
  // nothing is moving or due.
  std::optional<double> next_event() const;
  const std::vector<Transfer>& transfers() const { return t_; }
  // Is any transfer of this session's step unfinished?
  bool moving(std::int64_t session, int step) const;
  // Flowing rates (bytes per time unit) by transfer, as of the clock; tests read them.
  std::vector<double> rates() const;

 private:
  int waits_at(const Transfer& x) const { return caps_[x.route][x.held]; }  // x waiting: the link
  void hold_next(Transfer& x);                                              // x takes the slot at its next capped link
  void take_slots(Transfer& x, double now);                                 // at its next capped link onwards
  void pass_slots(double now);                                              // free slots go to the oldest waiters
  void compute_rates();
  void progress(double dt);

  const PlatformSpec& p_;
  double scale_;
  double clock_;
  std::vector<Transfer> t_;
  std::vector<double> rate_;            // by transfer, valid for the flowing ones
  std::vector<double> penalty_;         // by route: CM02's sharing penalty (latency, or 1)
  std::vector<std::vector<int>> caps_;  // by route: its capped links, in index order
  std::vector<int> active_;             // by link: unfinished transfers holding a slot there
  std::int64_t next_id_;
};

}  // namespace stepq
