// The three interfaces each mode implements; the worker loop and handlers see only these.
//
//   Queue    — claim / finish / cancel against the step table (in-memory model, SQLite, PostgreSQL)
//   Clock    — time, sleeping, and waiting for work (simulated time, or the wall clock)
//   Services — the external operations a handler calls (simulated costs, emulated, or real)
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
  bool ready = true;  // poll: is the external thing ready yet?
  std::string reason;
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
