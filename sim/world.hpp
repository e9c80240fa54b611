// The simulator's in-memory model of the step table and the platform behind it: the Queue, Clock,
// Recorder and Capacity the core worker loop and handlers run against, in simulated time.
//
// Each pool has a FIFO of READY steps (steps become READY in time order, so the front is the
// oldest READY step among the pool's kinds) and a semaphore that wakes one idle thread per new
// READY step (notify dispatch). WAITING steps sit in one timer heap served by a promoter actor;
// so do session ends (a session runs run_s once Running, then its release steps start). Each
// cluster keeps its nodes' free cores and memory and an admission queue (fifo or backfill,
// first-fit placement); each storage area its free bytes. A session's memory is freed when it is
// finished (started and released, or failed and released) and nothing refers to it, so memory
// follows the sessions in flight, not the number simulated.
#pragma once
#include <simgrid/s4u.hpp>

#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <unordered_set>
#include <string>
#include <vector>

#include "core/cluster.hpp"
#include "core/interfaces.hpp"
#include "core/phase.hpp"
#include "core/queue_snapshot.hpp"
#include "core/scenario.hpp"
#include "core/stats.hpp"
#include "core/trace.hpp"
#include "network.hpp"
#include "spill_log.hpp"
#include "reports/timeline.hpp"

namespace stepq::sim {

class World final : public Queue, public Clock, public Recorder, public Capacity, public Transfers {
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
  // Clock. The time of the running actor: the engine's clock plus what it owes for its claim.
  double now() override { return simgrid::s4u::Engine::get_clock() + debt_; }
  // A handler's sleep (and a settled claim): see suspend_for().
  void sleep_for(double seconds) override {
    const double d = seconds + debt_;
    debt_ = 0;
    if (d > 0) suspend_for(d);
    else simgrid::s4u::this_actor::sleep_for(d);  // yields, as a sleep of 0 does
  }
  bool wait_for_work(int pool) override;
  // Recorder
  void claimed(int pool, const StepRef& s, double wait_s) override;
  void ran(int pool, const StepRef& s, double busy_s, const Outcome& o, bool applied) override;
  void empty_claim(int pool) override { stats_.pools[pool].empty_polls++; }
  // Capacity
  OpResult submit(const StepContext& c) override;
  Capacity::Compute compute(const StepContext& c) override;
  void running(const StepContext& c, double at) override;
  void release_compute(const StepContext& c) override;
  bool reserve(const StepContext& c) override;
  void free_temp(const StepContext& c) override;

  // Transfers: over the Network; a rule's bytes move in an actor of their own (no worker waits).
  void transfer(const StepContext& c, int route, double bytes) override {
    settle();
    stats_.kinds[c.ref.kind].copied++;
    net_.transfer(route, bytes);
  }
  void located(const StepContext& c) override { stats_.kinds[c.ref.kind].located++; }
  void start_rule(const StepContext& c, int route, double bytes, double delay_s) override;
  bool rule_done(const StepContext& c, int step) override;
  simgrid::s4u::Host* broker() const { return net_.broker(); }

  // Accepts session `index` now: creates its plan DORMANT and makes the roots READY. `tmpl` < 0:
  // the template the scenario's mix gives it.
  void accept(std::uint64_t index, int tmpl = -1);
  // Forecast: the snapshot's sessions as they stand at time 0 (call before any claim). READY steps
  // join their pools in the order they became READY; WAITING ones their timers; a session past
  // start-up ends its run at its run time drawn beyond what it has run already. RUNNING steps are
  // returned, claimed, for whoever continues them (sim/forecast.cpp).
  struct Resumed {
    StepRef ref;
    int pool = 0;
    double elapsed = 0;     // how long it has run
    double copy_left = -1;  // ≥ 0: it was copying, with these bytes left (its service is behind it)
  };
  std::vector<Resumed> restore(const QueueSnapshot& snap);
  // Called when a session's start-up ends: its start-up time, NaN when it failed.
  std::function<void(std::uint64_t index, double startup)> on_startup_end;
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
    enum class Rule : unsigned char { none, moving, done } rule = Rule::none;  // a rule this step started
    std::uint64_t fence = 0;
    double ready_at = 0, activated_at = 0, claimed_at = 0, done_at = 0;
    double wait_s = 0, service_s = 0;  // summed over its claims, those made while Pending left out
  };
  // A session's compute request on its cluster.
  struct Compute {
    double cores = 0, memory_GB = 0;
    std::uint64_t user = 0;
    enum class State { none, queued, placed, released } state = State::none;
    double submitted_at = 0, admitted_at = 0, running_at = 0;
    bool running = false;
  };
  struct Session {
    std::uint64_t index = 0;
    int tmpl = 0;
    double accepted = 0;
    int remaining = 0;     // start-up steps not yet COMPLETED
    int release_left = 0;  // release steps not yet COMPLETED
    int refs = 0;          // queue entries, running claims, timers and admission queues that point here
    bool done = false, releasing = false, failed = false;
    std::vector<StepRt> steps;
    Compute compute;
    std::vector<std::pair<int, double>> temp;  // WriteTemp reservations: (area, bytes)
  };
  static constexpr int kSessionEnd = -1;  // a timer's step for "the session ends: start its release"
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
  struct ClusterRt {
    ClusterState state;
    double last_change = 0;  // of the levels integrated into ClusterStats
  };
  // What warm-up removal takes back of an early session: floats (kept() in world.cpp); after a
  // cut, quantiles are exact and means within 1e-6 of exact.
  struct EarlySplit {
    std::uint32_t session;
    int cluster;
    float pending, wait, service, other;
  };

  // The claim query's cost (dispatch.claim_s) is not an activity of its own: claim() takes the
  // step at once and the claiming thread owes claim_s of simulated time, paid by its next sleep
  // (one SimGrid event a step instead of two; a quarter of skaha-basic's). The debt is the running
  // actor's: it cannot yield while it owes, because every entry point that may yield (a simcall:
  // a semaphore, a comm, an actor) or that others could observe settles it first.
  void settle() {
    if (debt_ > 0) sleep_for(0);
  }
  double engine_now() const { return simgrid::s4u::Engine::get_clock(); }
  // Suspends the running actor for d > 0 simulated seconds: a kernel timer resumes it. Half the
  // cost of this_actor::sleep_for, which makes a CPU-model action (an lmm variable, solved and
  // extracted) of every sleep; a worker's sleep is most of a simulation's events. Only for
  // sleeps that end before the run does (a claimed step's): a timer still set when the last
  // actor ends would run the clock on to its date.
  static void suspend_for(double d);

  void make_ready(Session* s, int step);
  StepRef step_ref(Session* s, int step) const;  // for a claim of the step, as it stands
  void set_phase(Session* s, int step, Phase to);
  void startup_complete(Session* s, int last_step);
  void start_release(Session* s);
  void end_lease(Session* s);  // the session ended: no more renewals
  void session_done(Session* s);
  void check_all_finished();
  void release(Session* s);
  void fail_session(Session* s, int failed_step, const std::string& reason);
  void add_timer(double due, Session* s, int step);
  // Clusters: place what fits (the cluster's admission policy), and keep the level series.
  void admit(int cluster);
  void cluster_changed(int cluster);

  const Scenario& sc_;
  const bool activate_;
  double debt_ = 0;          // simulated seconds the running actor owes for its claim (see settle())
  bool claim_paid_ = false;  // the running actor's next claim was paid by its empty one (wait_for_work)
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
  // An early claim's wait (a float, as EarlySplit), on disk until a cut needs it (spill_log.hpp).
  struct EarlyWait {
    std::uint32_t session;
    std::uint32_t kind;
    float wait;
  };
  SpillLog<EarlyWait> early_waits_;
  SpillLog<EarlySplit> early_splits_;
  std::vector<ClusterRt> clusters_;
  std::vector<double> area_free_;  // per storage area: bytes
  TraceSink* trace_ = nullptr;
  Timeline timeline_;
  Network net_;
  std::unordered_multiset<Session*> rule_holders_;  // sessions whose rules are still moving bytes
};

}  // namespace stepq::sim
