// The live step queue on one SQLite file (DESIGN §5, research/queues.md §4b): WAL, one writer
// connection per process behind a mutex, BEGIN IMMEDIATE for every write, the claim of the oldest
// READY step among a pool's kinds as one UPDATE … RETURNING, finishes fenced by (step, fence).
#pragma once
#include <mutex>
#include <unordered_map>

#include "backends/live/store.hpp"
#include "db.hpp"

namespace stepq::sqlite {

class SqliteStore final : public live::LiveStore {
 public:
  // `create`: make the file if missing (live init); otherwise a missing file is an error.
  SqliteStore(const std::string& path, bool create);

  // Queue
  std::optional<StepRef> claim(int pool) override;
  bool predecessors_done(const StepRef& s) override;
  bool finish(const StepRef& s, const Outcome& o) override;

  // LiveStore
  int schema_version() override;
  int migrate() override;
  void require_schema() override;
  void bind(const Scenario& sc, double time_scale) override;
  std::uint64_t submit_sessions(std::uint64_t n) override;
  std::int64_t begin_submission(std::uint64_t planned) override;
  void submission_progress(std::int64_t id, std::uint64_t submitted, bool finished) override;
  std::int64_t register_processor(const std::string& host, std::int64_t pid, const std::string& pools) override;
  bool heartbeat() override;
  int reap(double lease_s) override;
  std::optional<double> promote() override;
  Elsewhere changes_elsewhere() override;
  bool idle(double lease_s) override;
  int release_running() override;
  void stop_processor(const std::string& reason) override;
  void with_links(const std::function<void(FluidLinks&)>& f) override;
  live::CancelResult cancel_session(std::uint64_t id) override;
  void record_forecast(const std::vector<live::ForecastRecord>& rows) override;
  // On a connection of its own: this store's one connection, under one mutex, also carries the
  // heartbeat, and a first fold of a long log reads for seconds.
  void fold_status() override;

  // Capacity
  OpResult submit(const StepContext& c) override;
  Compute compute(const StepContext& c) override;
  void running(const StepContext& c, double at) override;
  void release_compute(const StepContext& c) override;
  bool reserve(const StepContext& c) override;
  void free_temp(const StepContext& c) override;

  Db& db() { return db_; }  // tests and benchmarks

 protected:
  void read_snapshot(const SnapshotRead& read, bool stream) override;
  bool write_status_cache(std::int64_t generation, const std::string& summary) override;

 private:
  // One session and its plan, in the caller's write transaction (mu_ held); returns its id.
  // One transaction's submission: its statements prepared once, the next ids counted here.
  struct Batch {
    Stmt session, step, edge;
    std::uint64_t next_id = 0;
    std::int64_t next_step = 0;
  };
  std::uint64_t insert_session(double now, std::vector<int>& ready, Batch& b);
  // A session that fails or is cancelled: its unfinished start-up steps are CANCELLED and, when its
  // template has release steps, they start now and the session stays ACTIVE until they are done
  // (outcome = phase); else the session ends now. A release step that fails ends the session
  // FAILED and cancels the rest of its release. Returns the steps cancelled; `ready` gets the
  // pools whose steps became READY.
  std::uint64_t end_session(std::int64_t session, const char* phase, const std::string& reason, double now,
                            std::vector<int>& ready);
  // The release steps of a session with none started: READY now, or WAITING until `at`.
  void start_release(std::int64_t session, double now, double at, std::vector<int>& ready);
  // Places what the cluster's admission policy lets go now (in the caller's write transaction).
  void admit(const std::string& cluster, double now);
  // Rows for the bound scenario's clusters and storage areas, made when missing.
  void seed_capacity(const Scenario& sc);
  std::int64_t kind_id(const std::string& name);
  void notify(const std::vector<int>& pools);
  std::int64_t insert_processor();

  std::mutex mu_;
  Db db_;
  std::int64_t last_data_version_ = 0;

  // Bound scenario.
  const Scenario* sc_ = nullptr;
  double scale_ = 1;
  std::vector<std::int64_t> kind_db_, tmpl_db_;              // scenario index → db id
  std::unordered_map<std::int64_t, int> kind_sc_, tmpl_sc_;  // db id → scenario index
  std::vector<Stmt> claim_, has_ready_;                      // per pool

  // This process as a processor.
  std::int64_t processor_ = 0;
  std::string host_, pools_;
  std::int64_t pid_ = 0;

  // Hot statements, prepared once.
  Stmt insert_execution_, end_execution_, finish_completed_, has_next_, activate_next_, count_down_session_,
      count_down_release_, finish_failed_, finish_wait_, deps_left_, next_due_, promote_;
};

}  // namespace stepq::sqlite
