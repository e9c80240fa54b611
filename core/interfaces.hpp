// The interfaces each mode implements; the worker loop and handlers see only these.
//
//   Queue    — claim / finish / cancel against the step table (in-memory model, SQLite, PostgreSQL)
//   Clock    — time, sleeping, and waiting for work (simulated time, or the wall clock)
//   Services — the external operations a handler calls (simulated costs, emulated, or real)
//   Capacity — the clusters and storage quotas behind a modelled platform (simulator, emulated)
//   Transfers — the network behind a modelled platform: shared links, FTS caps, async rules (simulator, emulated)
//
// Code running under SimGrid must block only through Clock, never std::mutex or
// std::this_thread: actors share one OS thread.
#pragma once
#include <optional>
#include <string>

#include "step.hpp"

namespace stepq {

struct KindSpec;
struct PlanStep;
struct Scenario;

class Queue {
 public:
  virtual ~Queue() = default;
  // The oldest READY step among the pool's kinds, now RUNNING under a new fence; or nothing.
  virtual std::optional<StepRef> claim(int pool) = 0;
  // For the `recheck` dependency style: are the step's predecessors all COMPLETED?
  virtual bool predecessors_done(const StepRef& s) = 0;
  // Fenced finish. Completion activates dependents in the same transaction; a final failure
  // fails the session and cancels its other steps. false = the lease was lost (result dropped).
  virtual bool finish(const StepRef& s, const Outcome& o) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now() = 0;
  virtual void sleep_for(double seconds) = 0;
  // Blocks until the pool may have work (notify) or one poll interval passed (poll).
  // false = the engine is stopping and the worker should return.
  virtual bool wait_for_work(int pool) = 0;
};

// Everything a handler knows about the step it runs.
struct StepContext {
  const Scenario& scenario;
  const KindSpec& kind;
  const PlanStep& step;
  const StepRef& ref;
  std::uint64_t session_key;  // rng.hpp: session_key(seed, ref.session)
};

struct OpResult {
  bool ok = true;
  bool ready = true;     // poll: is the external thing ready yet? false elsewhere: try again later
  std::string reason;    // not ok: why; ok and ready: what it found, for the execution log
  double again_s = 0;    // not ready, not a poll: WAITING this long before the next try
  bool give_up = false;  // not ok: asking again cannot help (a 4xx answer): no further attempt
};

class Services {
 public:
  virtual ~Services() = default;
  virtual OpResult pull_image(const StepContext& c) = 0;
  virtual OpResult allocate_storage(const StepContext& c) = 0;
  virtual OpResult stage_data(const StepContext& c) = 0;
  virtual OpResult launch(const StepContext& c) = 0;
  virtual OpResult poll(const StepContext& c) = 0;
  virtual OpResult work(const StepContext& c) = 0;
  // Release (after the session ended, or failed): give back compute, WriteTemp space, output.
  virtual OpResult remove(const StepContext& c) = 0;
  virtual OpResult cleanup(const StepContext& c) = 0;
  virtual OpResult pushback(const StepContext& c) = 0;
  // While a session runs: renew the lifetime of what its rules staged (a template's lease). ok
  // and not ready: renewed, due again after the lease's every_s. Platforms without rules have
  // no replicas to renew: the default refuses, so a scenario asking for it fails loudly.
  virtual OpResult extend_lease(const StepContext&) {
    return {false, false, "this platform does not stage data by rules: it has no lease to extend", 0, true};
  }
};

// The platform's capacity behind the broker: clusters that admit and place sessions (one compute
// request each: the template's session) and storage areas with byte quotas. The simulator keeps
// it in memory; the live `emulated` platform in the database, so that processes share it.
class Capacity {
 public:
  virtual ~Capacity() = default;
  // launch: the session's request joins its cluster's admission queue (placed at once when it
  // can be). Not ok: refused (the user already has the cluster's user_limit sessions).
  virtual OpResult submit(const StepContext& c) = 0;
  // poll: where the session's request is: submitted when, admitted (placed) when, if it is.
  struct Compute {
    bool submitted = false;
    double submitted_at = 0;
    std::optional<double> admitted_at;  // nothing while it is Pending
  };
  virtual Compute compute(const StepContext& c) = 0;
  // poll, when it sees the session Running: from when (its run time counts from there).
  virtual void running(const StepContext& c, double at) = 0;
  // delete: gives the session's cores and memory back, or takes it out of the queue. Idempotent.
  virtual void release_compute(const StepContext& c) = 0;
  // storage: reserves the step's bytes in its area; false when they do not fit now.
  virtual bool reserve(const StepContext& c) = 0;
  // cleanup: gives back the session's WriteTemp reservations. Idempotent.
  virtual void free_temp(const StepContext& c) = 0;
};

// The network behind a modelled platform: routes of links that concurrent transfers share, each
// link with an optional cap on active transfers (FTS's max_active; the others wait first come,
// first served at the link). The simulator runs it on SimGrid; the live emulated platform keeps it
// in the database (backends/live/live_links.hpp). Without one, ModelServices sleeps a transfer's
// time alone.
class Transfers {
 public:
  virtual ~Transfers() = default;
  // Moves `bytes` over route `route` (PlatformSpec::routes) now, holding the calling thread.
  virtual void transfer(const StepContext& c, int route, double bytes) = 0;
  // An asynchronous rule for the context's step: its bytes start to move `delay_s` from now and
  // no thread waits for them.
  virtual void start_rule(const StepContext& c, int route, double bytes, double delay_s) = 0;
  // Has the rule step `step` of the context's session started finished moving its bytes? True
  // when it started none (a local replica, an absent copy).
  virtual bool rule_done(const StepContext& c, int step) = 0;
  // The context's step found a replica at its destination: located, bind-mounted, nothing moved.
  virtual void located(const StepContext& c) = 0;
};

// What the worker loop reports; the simulator's statistics and the live log implement it.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void claimed(int pool, const StepRef& s, double wait_s) = 0;
  virtual void ran(int pool, const StepRef& s, double busy_s, const Outcome& o, bool applied) = 0;
  virtual void empty_claim(int pool) = 0;
};

}  // namespace stepq
