// The network of a simulated platform (SimGrid 3.32): a "broker" host that runs every actor, the
// scenario's hosts in one full zone, each route a list of links (SimGrid shares a link's
// bandwidth among the transfers crossing it, max-min fairly), and FTS's cap on the transfers
// active on a link at once (`max_active`): the others wait at the link, first come, first served.
//
// Per link it measures what the report shows: transfers, bytes, time active, time waiting for a
// slot, and over time the queue, the active transfers and the throughput.
#pragma once
#include <simgrid/s4u.hpp>

#include <deque>
#include <functional>
#include <vector>

#include "core/scenario.hpp"
#include "core/stats.hpp"
#include "reports/timeline.hpp"

namespace stepq::sim {

class Network {
 public:
  // Builds the platform (the engine must exist). Link l's levels go to timeline series
  // first_series + 2l (queued, active) and + 2l + 1 (throughput in MB/s, unused).
  Network(const Scenario& sc, Timeline& timeline, std::size_t first_series, std::vector<LinkStats>& stats);
  simgrid::s4u::Host* broker() const { return broker_; }
  // Moves `bytes` over route `route`, blocking the calling actor: a slot at each capped link of
  // the route first, taken in link order (so two transfers never wait for each other's slots),
  // then the bytes; the slots are given back when the last byte has arrived.
  void transfer(int route, double bytes);
  // Moves `bytes` over `route` after `delay_s`, with no caller waiting; then calls done(). Movers
  // are a pool of actors fed by a queue, grown only when every mover is busy: an actor per transfer
  // cost ~70 µs of system time each (stacks mapped and unmapped), a pool costs nothing per transfer.
  void start(double delay_s, int route, double bytes, std::function<void()> done);
  // Closes the links' time integrals at the end of the run.
  void finish();

 private:
  struct LinkRt {
    int active = 0;
    std::deque<simgrid::s4u::SemaphorePtr> waiting;  // FIFO at a capped link; each is passed a slot
    double last_change = 0;
  };
  struct Job {
    double delay_s;
    int route;
    double bytes;
    std::function<void()> done;
  };
  void mover();
  void acquire(int link);
  void release(int link);
  void changed(int link);  // integrates the link's levels up to now

  const Scenario& sc_;
  Timeline& timeline_;
  std::size_t first_series_;
  std::vector<LinkStats>& stats_;
  std::vector<LinkRt> links_;
  simgrid::s4u::Host* broker_ = nullptr;
  std::deque<Job> jobs_;
  simgrid::s4u::SemaphorePtr jobs_wake_;
  int idle_movers_ = 0;
  std::vector<simgrid::s4u::Host*> route_ends_[2];  // per route: its from host, its to host
};

}  // namespace stepq::sim
