// What the live engine and the `stepq live` commands need of a database, beyond the core Queue:
// schema, submission, processors (heartbeat, reaper), promotion, cancel, and status. SQLite
// (backends/sqlite) and PostgreSQL (backends/postgres) implement it. All times in the database
// are wall-clock seconds since the Unix epoch; the Queue side converts them to model seconds
// (÷ time scale), so the core worker loop and handlers see the same units as in simulation.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/histogram.hpp"
#include "core/interfaces.hpp"
#include "core/interval_bins.hpp"

namespace stepq {
struct Scenario;
struct PlatformSpec;
class FluidLinks;
}  // namespace stepq

namespace stepq::live {

// A request the database cannot serve as asked (no schema yet, a newer schema, a scenario that
// does not match the submitted sessions, no such session): the CLI exits 2 with this message.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Seconds since the Unix epoch.
inline double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct LiveStatus {
  double now = 0;
  std::vector<std::pair<std::string, std::uint64_t>> sessions;  // phase → count, every phase
  struct Kind {
    std::string name;
    std::array<std::uint64_t, 7> steps{};  // by Phase
    Histogram wait_s, service_s;           // from the execution log (finished executions)
    std::uint64_t executions = 0, lost = 0, reaped = 0, retries = 0;
  };
  std::vector<Kind> kinds;
  Histogram startup_s;  // COMPLETED sessions: finished − created
  struct Processor {
    std::int64_t id = 0;
    std::string host, pools;
    std::int64_t pid = 0;
    double started_at = 0, heartbeat_at = 0;
    std::optional<double> stopped_at;
    std::string stop_reason;
    std::uint64_t running = 0;
    std::uint64_t reconnects = 0;  // times it lost its database connection and got it back
  };
  std::vector<Processor> processors;
  std::vector<std::pair<std::string, std::uint64_t>> failure_reasons;  // most frequent first
  std::uint64_t submissions_active = 0;
  // The recorded history, for the report's charts over time, binned as it is read (memory does
  // not grow with the log): by kind (indexes of `kinds`), steps READY and executions running, from
  // every execution-log row (an open one runs until `now`) and every step READY now.
  IntervalBins over_time;
  // The emulated platform's links (live_links.hpp), by name, in the order first seen.
  struct Link {
    std::string name;
    std::uint64_t transfers = 0;  // done
    std::uint64_t moving = 0;     // now: holding their slots (in latency or flowing)
    std::uint64_t waiting = 0;    // now: for an FTS slot on their route
    double bytes = 0;             // done
    Histogram transfer_s;         // done: slots held → last byte
    Histogram slot_wait_s;        // done: reached the links → held every slot of the route
  };
  std::vector<Link> links;
  // Recorded forecasts (`stepq forecast --record`) of sessions that have started since: what
  // happened beside what was forecast, and beside the broker's queue-blind prepare cost.
  struct Forecasts {
    std::uint64_t count = 0;             // forecasts of sessions that started
    std::uint64_t within_p95 = 0;        // of them, started by the forecast p95
    std::vector<double> vs_p50;          // observed start-up / forecast p50, each
    std::vector<double> vs_queue_blind;  // observed start-up / prepare cost, each
  } forecasts;
};

// Status from the execution log, the same for every database. One execution-log row of kind
// `kind` (an index into st.kinds): its intervals go into the history and, once it ended, its
// wait (started − ready) and service (ended − started) into the kind's statistics.
void add_execution(LiveStatus& st, std::size_t kind, double ready_at, double started_at, std::optional<double> ended_at,
                   const std::string& outcome);
// A step READY now: queue length in the history.
void add_ready(LiveStatus& st, std::size_t kind, double ready_at);
// A row of the transfer table: `links` its route's link names, comma-separated; phase as
// core/fluid_links.hpp's; `at` when it ended, for a done one. Wall seconds.
void add_transfer(LiveStatus& st, const std::string& links, int phase, double bytes, std::optional<double> arrived_at,
                  std::optional<double> started_at, double at);
// The threads per pool a processor registered ("name=threads,…", as Engine::run writes it);
// parts that are not name=number are skipped.
std::vector<std::pair<std::string, int>> pool_threads(const std::string& pools);
// What the transfer table records as a route's links.
std::string link_names(const PlatformSpec& p, int route);
// How step `step` of a session of template `tmpl` being submitted starts, on every database: a start-up step with
// no predecessors is activated now; the READY ones are those, or every start-up step under
// `recheck` (all READY at once, as the broker does today); release steps wait DORMANT for the
// session's end.
struct InitialStep {
  bool activated = false;  // activated_at = now
  bool ready = false;      // READY, ready_at = now; else DORMANT
};
InitialStep initial_step(const Scenario& sc, int tmpl, int step);
// Kinds nobody ever submitted (a scenario bound but unused) are noise in a status table; the
// history's kind indexes follow.
void drop_unused_kinds(LiveStatus& st);

// What `stepq calibrate` learns from (issue 17): the executions that ended and the sessions that
// arrived at or after `since` (wall seconds), in wall seconds as recorded, and the processors
// that ran meanwhile. Executions are handed to a HistorySink one at a time, in the order they
// started, so that a log of millions of rows is never held whole.
struct History {
  struct Execution {
    std::string kind;
    int attempt = 1;
    double ready_at = 0, started_at = 0, ended_at = 0;
    std::string outcome;      // completed, failed, retry, requeue, lost, reaped, released
    std::int64_t step = 0;    // the step's id: a poll's looks are its executions
    double activated_at = 0;  // the step's, when its predecessors were all complete (wall; NaN if not)
    double admitted_at = 0;   // its session's, on a cluster (wall; NaN if none)
  };
  // A transfer the emulated platform finished (core/fluid_links.hpp): slots held → last byte.
  struct Transfer {
    int route = 0;  // index into the bound scenario's platform.routes
    double bytes = 0, started_at = 0, ended_at = 0;
  };
  struct Processor {
    std::string pools;                    // as registered: "name=threads,…"
    double started_at = 0, ended_at = 0;  // ended: stopped, or its last heartbeat
  };
  std::vector<double> arrivals;  // sessions' created_at, ascending
  std::vector<Processor> processors;
};

class HistorySink {
 public:
  virtual ~HistorySink() = default;
  virtual void execution(const History::Execution& e) = 0;
  virtual void transfer(const History::Transfer&) {}
  // A session that ran and gave back what it held: its template, and how long it ran (wall
  // seconds from Running, or from start-up when it had no cluster, to its release).
  virtual void session_run(const std::string& /*tmpl*/, double /*run*/) {}
  // A rule (kind) whose bytes reached the links this long after the rule was submitted (wall).
  virtual void rule_delay(const std::string& /*kind*/, double /*delay*/) {}
  // The read starts again from its first row (PostgreSQL lost the connection mid-way): forget
  // what came so far.
  virtual void restart() = 0;
};

// What `stepq forecast` starts from (issue 17): every ACTIVE session and its steps, read in one
// snapshot; times as recorded (wall seconds), `now` by the database's clock. NaN for NULL.
struct QueueState {
  struct Step {
    int num = 0, phase = 0, attempt = 1;
    std::string kind;
    double activated_at = 0, ready_at = 0, claimed_at = 0, not_before = 0;
    double last_not_ready = 0;  // a poll's last look that found it not ready (this attempt): ended_at
  };
  struct Session {
    std::uint64_t id = 0;
    std::string tmpl;
    double created_at = 0, started_at = 0;  // started_at: start-up complete
    bool ended = false;                     // failed or cancelled, releasing
    std::vector<Step> steps;                // by num
    // Its request on its cluster: compute "" (none), queued, placed or released.
    std::string compute;
    double cores = 0, memory_GB = 0, submitted_at = 0, admitted_at = 0, running_at = 0;
    std::uint64_t owner = 0;
    int node = -1;
    std::vector<std::pair<std::string, double>> temp;  // WriteTemp reservations: (area, bytes)
  };
  double now = 0;
  std::uint64_t next_id = 0;  // the id the next session submitted takes
  std::vector<Session> sessions;
  std::vector<std::pair<std::string, double>> area_free;  // storage area → bytes free
  // The processors running now (not stopped, a heartbeat in the last 10 s): their pools as
  // registered ("name=threads,…").
  std::vector<std::string> running_pools;
  // The emulated platform's transfers not yet done, in the order they reached their links.
  struct Transfer {
    std::uint64_t session = 0;
    int num = 0, attempt = 1, route = 0, phase = 0;  // phase as core/fluid_links.hpp's
    double left_bytes = 0, at = 0;                   // at: a delayed one's due time (wall)
  };
  std::vector<Transfer> transfers;
};

// One session's forecast, as `stepq forecast --record` stores it (wall seconds; NaN: none).
struct ForecastRecord {
  std::uint64_t session = 0;
  double made_at = 0, p50_at = 0, p95_at = 0, queue_blind_s = 0, time_scale = 1;
};
// The statement that stores them, the same in either dialect; repeated rows are ignored, and so
// are rows of sessions that ended before `sealed_before` (an SQL expression of wall seconds):
// `live status` has summed those sessions for good (StatusOptions::seal_after_s).
std::string forecast_insert_sql(const std::vector<ForecastRecord>& rows, const std::string& sealed_before);

struct CancelResult {
  enum class What { cancelled, already_finished } what = What::cancelled;
  std::string phase;        // the session's phase after the call
  std::uint64_t steps = 0;  // steps cancelled
};

// How `live status` uses its summary of sealed sessions (status_summary.hpp).
struct StatusOptions {
  bool use_cache = true;
  double seal_after_s = 60;       // a session sealed once it ended this long ago (commits in flight)
  std::uint64_t fold_min = 1000;  // newly sealed sessions and done transfers worth a new summary
  std::size_t open_max = 10000;   // ids below the frontier not sealed yet: beyond that it stops
  // The status as of this wall time rather than the database's clock, so that two reads of one
  // state can be compared (an open execution runs until now); not later than the clock.
  std::optional<double> now;
};
enum class StatusCache { use, ignore };

// A row cursor that SQLite's statement and PostgreSQL's result (or cursor) adapt to, so that the
// reads above the dialect (store_status.cpp, status_read.cpp) are written once for both databases.
class Rows {
 public:
  virtual ~Rows() = default;
  virtual bool next() = 0;  // on to the next row; false after the last
  virtual std::int64_t i64(int col) const = 0;
  virtual double f64(int col) const = 0;
  virtual bool null(int col) const = 0;
  virtual std::string text(int col) const = 0;
};
using Query = std::function<std::unique_ptr<Rows>(const std::string& sql)>;

// Capacity: the clusters and storage areas of the scenario, kept in the database so that every
// process sees one cluster; times in and out are model seconds, like the Queue's.
class LiveStore : public Queue, public Capacity {
 public:
  virtual int schema_version() = 0;  // 0: no stepq schema yet
  // Creates or migrates the schema; returns how many migrations it applied (0: already current).
  // StoreError when the database is newer than this stepq.
  virtual int migrate() = 0;
  // StoreError unless the schema is exactly the current one.
  virtual void require_schema() = 0;

  // Binds the Queue side to a scenario: its kinds and templates by name, its pools, and the time
  // scale (wall seconds per model second). StoreError when unfinished sessions use kinds or
  // templates the scenario lacks or shapes differently.
  virtual void bind(const Scenario& sc, double time_scale) = 0;

  // Submission (bound): `n` ≥ 1 sessions and their plans, with consecutive ids; returns the first.
  // A session is in one transaction with its plan; many may share one (PostgreSQL: up to 256, so
  // that a submission is not a round trip per session).
  virtual std::uint64_t submit_sessions(std::uint64_t n) = 0;
  std::uint64_t submit_session() { return submit_sessions(1); }
  virtual std::int64_t begin_submission(std::uint64_t planned) = 0;
  virtual void submission_progress(std::int64_t id, std::uint64_t submitted, bool finished) = 0;

  // Processors. register_processor must precede claims; heartbeat() false = this processor had
  // been declared dead (its steps were reaped) and is registered again under a new id.
  virtual std::int64_t register_processor(const std::string& host, std::int64_t pid, const std::string& pools) = 0;
  virtual bool heartbeat() = 0;
  // Returns the RUNNING steps of processors silent for longer than lease_s to READY (a new
  // attempt), or FAILED past their max attempts. Returns the number of steps reaped.
  virtual int reap(double lease_s) = 0;
  // WAITING → READY for steps due now; returns when the next WAITING step is due (wall).
  virtual std::optional<double> promote() = 0;
  // What other processes changed since the last call, for the promoter (called every
  // millisecond, so it must be cheap when nothing changed). SQLite: PRAGMA data_version moved →
  // every pool with READY steps, and WAITING steps may have changed. PostgreSQL: the kinds named
  // by notifications; every fallback-poll interval (or after the listening connection was lost)
  // every pool with READY steps, and WAITING steps may have changed.
  struct Elsewhere {
    bool any = false;
    bool waiting = false;     // look again for the next due WAITING step
    std::vector<bool> ready;  // by bound pool: may have READY steps
  };
  virtual Elsewhere changes_elsewhere() = 0;
  // No ACTIVE session and no live submission.
  virtual bool idle(double lease_s) = 0;
  // Graceful stop: this processor's RUNNING steps back to READY (same attempt). Returns how many.
  virtual int release_running() = 0;
  virtual void stop_processor(const std::string& reason) = 0;

  // The emulated platform's network (core/fluid_links.hpp), shared by every process: in one write
  // transaction, the transfers not yet done as of the network's clock go to `f` (to advance it and
  // add to it; times are wall seconds), and what it changed is written back. Bound only.
  virtual void with_links(const std::function<void(FluidLinks&)>& f) = 0;

  virtual CancelResult cancel_session(std::uint64_t id) = 0;
  // The reads above the dialect (store_status.cpp), each in one snapshot through read_snapshot.
  // status: `ignore` sums every row, as if there were no summary of sealed sessions, and stores
  // none.
  LiveStatus status(StatusCache cache = StatusCache::use);
  StatusOptions status_options;
  // What a running engine calls now and then (LiveOptions::fold_status_s): moves the summary of
  // sealed sessions on, as a status does, on a connection none of this store's other calls wait
  // for. The default is status() (PostgreSQL: a connection of the pool's own).
  virtual void fold_status() { status(); }
  // Executions (to `sink`), arrivals and processors since `since` (wall seconds), for calibration.
  History history(double since, HistorySink& sink);
  // The unfinished sessions and their steps now, for forecasting.
  QueueState queue_state();
  // Stores a forecast's rows in one transaction.
  virtual void record_forecast(const std::vector<ForecastRecord>& rows) = 0;

  // In-process wake-ups, called after commit: steps of `pool` became READY; a step went WAITING
  // until `due` (wall).
  std::function<void(int pool)> on_ready;
  std::function<void(double due)> on_waiting;

 protected:
  // Runs `read` in one read-only snapshot (every query in it sees one state of the database):
  // `now` is the database's clock, `again` true when the read runs again from its start after a
  // lost connection (PostgreSQL). `stream`: long results, read a batch of rows at a time.
  using SnapshotRead = std::function<void(const Query& query, double now, bool again)>;
  virtual void read_snapshot(const SnapshotRead& read, bool stream) = 0;
  // Stores `summary` as the status cache if its generation is still `generation` (another status
  // may have moved it on meanwhile): false if not. Throws when the database refuses the write.
  virtual bool write_status_cache(std::int64_t generation, const std::string& summary) = 0;
};

}  // namespace stepq::live
