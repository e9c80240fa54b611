// The simulator's in-memory model of the step table: the Queue, Clock and Recorder the core
// worker loop runs against, in simulated time.
//
// Each pool has a FIFO of READY steps (steps become READY in time order, so the front is the
// oldest READY step among the pool's kinds) and a semaphore that wakes one idle thread per new
// READY step (notify dispatch). WAITING steps sit in one timer heap served by a promoter actor.
// A session's memory is freed when it is finished and no queue entry or thread refers to it, so
// memory follows the work in flight, not the number of sessions simulated.
#pragma once
#include <simgrid/s4u.hpp>

#include <deque>
#include <limits>
#include <queue>
#include <string>
#include <vector>

#include "core/interfaces.hpp"
#include "core/phase.hpp"
#include "core/scenario.hpp"
#include "core/stats.hpp"
#include "core/trace.hpp"
#include "reports/timeline.hpp"

namespace stepq::sim {

class World final : public Queue, public Clock, public Recorder {
 public:
  // Claims of sessions with index < early_limit are remembered, so that a warm-up chosen at the
  // end of the run can be taken back out of the wait statistics.
  World(const Scenario& sc, std::uint64_t early_limit);
  // Leaves sessions with index < cutoff (at most early_limit) out of start-up and wait statistics.
  void drop_warmup(std::uint64_t cutoff);
  // Start-up of each session in arrival order (NaN: it did not start).
  const std::vector<double>& startup_by_index() const { return startup_by_index_; }
  ~World() override;

  // Queue
  std::optional<StepRef> claim(int pool) override;
  bool predecessors_done(const StepRef& s) override;
  bool finish(const StepRef& s, const Outcome& o) override;
  // Clock
  double now() override { return simgrid::s4u::Engine::get_clock(); }
  void sleep_for(double seconds) override { simgrid::s4u::this_actor::sleep_for(seconds); }
  bool wait_for_work(int pool) override;
  // Recorder
  void claimed(int pool, const StepRef& s, double wait_s) override;
  void ran(int pool, const StepRef& s, double busy_s, const Outcome& o, bool applied) override;
  void empty_claim(int pool) override { stats_.pools[pool].empty_polls++; }

  // Accepts session `index` now: creates its plan DORMANT and makes the roots READY.
  void accept(std::uint64_t index);
  // The promoter actor's body: WAITING → READY when the not-before time passes.
  void promote_forever();
  // The generator calls this once every session has arrived; returns when all are finished and
  // no thread is still busy (a cancelled session's running step still ends, its lease lost).
  void wait_until_all_finished();
  std::uint64_t finished() const { return finished_; }

  // Closes the queue-length and busy-thread series at the end of the run (into stats()).
  void finish_timeline(double end);
  RunStats& stats() { return stats_; }
  void set_trace(TraceSink* t) { trace_ = t; }

 private:
  struct StepRt {
    Phase phase = Phase::DORMANT;
    unsigned short deps_left = 0;
    unsigned short attempt = 1;
    std::uint64_t fence = 0;
    double ready_at = 0, activated_at = 0;
  };
  struct Session {
    std::uint64_t index;
    int tmpl;
    double accepted;
    int remaining;     // steps not yet COMPLETED
    int refs = 0;      // queue entries + running claims that point here
    bool done = false;
    std::vector<StepRt> steps;
  };
  struct Entry {
    Session* s;
    int step;
  };
  struct Timer {
    double due;
    std::uint64_t seq;  // ties broken by insertion order: deterministic
    Entry e;
    bool operator>(const Timer& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  struct PoolRt {
    std::deque<Entry> ready;
    simgrid::s4u::SemaphorePtr wake;
    int idle = 0;
  };

  void make_ready(Session* s, int step);
  void set_phase(Session* s, int step, Phase to);
  void session_done(Session* s);
  void check_all_finished();
  void release(Session* s);
  void fail_session(Session* s, int failed_step, const std::string& reason);

  const Scenario& sc_;
  const bool activate_;
  RunStats stats_;
  std::vector<PoolRt> pools_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> waiting_;
  simgrid::s4u::SemaphorePtr promoter_wake_;
  double promoter_until_ = std::numeric_limits<double>::infinity();
  std::uint64_t timer_seq_ = 0, fence_seq_ = 0;
  std::uint64_t finished_ = 0;
  std::uint64_t running_ = 0;  // claims not yet finished
  bool all_arrived_ = false;
  simgrid::s4u::SemaphorePtr all_finished_;
  std::vector<double> startup_by_index_;
  std::uint64_t early_limit_;
  struct EarlyWaits {  // two arrays, not pairs: 12 bytes a claim instead of 16
    std::vector<std::uint32_t> session;
    std::vector<double> wait;
  };
  std::vector<EarlyWaits> early_waits_;  // per kind
  TraceSink* trace_ = nullptr;
  Timeline timeline_;
};

}  // namespace stepq::sim
