// The live engine: the core worker loop on OS threads against a LiveStore, in wall-clock time.
//
// Threads: one pool of workers per scenario pool (run_worker from core/worker.cpp, unchanged),
// plus a promoter (WAITING → READY when due, and wake-ups for work another process made READY)
// and a heartbeat thread (heartbeat, reaper, stop conditions). SIGINT/SIGTERM: stop claiming, let
// running steps finish within the grace period, release what is left back to READY, exit 0.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/interfaces.hpp"
#include "store.hpp"

namespace stepq {
struct Scenario;
}

namespace stepq::live {

struct LiveOptions {
  double time_scale = 1;        // wall seconds per model second (emulated platform)
  bool until_idle = false;      // stop when no session is unfinished and no submission is running
  double idle_s = 1;            // … for this many wall seconds in a row
  std::optional<double> for_s;  // stop after this many wall seconds
  double heartbeat_s = 1;
  double lease_s = 5;            // a processor silent this long is dead: its steps are reaped
  double grace_s = 30;           // after a stop signal, how long running steps may take
  double fallback_poll_s = 0.1;  // idle workers look at the database at least this often
  // How often the processor folds the sessions sealed since into `live status`'s summary (DESIGN
  // §9), so that a status reads only the last minutes whenever it runs; 0: never.
  double fold_status_s = 60;
  bool quiet = false;
};

struct LiveSummary {
  std::int64_t processor = 0;
  std::uint64_t claims = 0, completed = 0, failed = 0, waits = 0, lost = 0, reaped = 0, released = 0;
  double wall_s = 0;
  std::string stopped_by;  // "idle", "time", "signal", "error: …"
};

std::string describe(const LiveSummary& s);

using ServicesFactory = std::function<std::unique_ptr<Services>(Clock&)>;

// Runs until a stop condition; returns what this processor did. `store` must be bound to `sc`.
// When steps are still running after the grace period they are released and the process exits
// (status 0) at once, after printing the summary: their threads cannot be interrupted safely.
LiveSummary run_live(LiveStore& store, const Scenario& sc, const ServicesFactory& services, const LiveOptions& opt);

}  // namespace stepq::live
