// The live step queue on PostgreSQL (DESIGN §5, research/queues.md §4b): many processes on many
// machines share one database. A connection per concurrent caller (pool), the hot paths as single
// autocommit statements (sql/queue.hpp), LISTEN/NOTIFY on a connection of its own for wake-ups
// plus a fallback poll, a reaper that one processor at a time runs (advisory lock), and
// reconnection with backoff: a write whose connection dropped is looked up (token, execution
// log) rather than done twice.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "backends/live/store.hpp"
#include "pg.hpp"

namespace stepq::pg {

class PgStore final : public live::LiveStore {
 public:
  // `create` (live init): create the database when it does not exist.
  PgStore(const std::string& url, bool create);
  ~PgStore() override;

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

  // Capacity
  OpResult submit(const StepContext& c) override;
  Compute compute(const StepContext& c) override;
  void running(const StepContext& c, double at) override;
  void release_compute(const StepContext& c) override;
  bool reserve(const StepContext& c) override;
  void free_temp(const StepContext& c) override;

  // How long an operation keeps reconnecting before it gives up (StoreError). Tests shorten it.
  double reconnect_limit_s = 120;
  double fallback_poll_s = 0.5;
  const std::string& label() const { return pool_.label(); }

 protected:
  void read_snapshot(const SnapshotRead& read, bool stream) override;
  bool write_status_cache(std::int64_t generation, const std::string& summary) override;

 private:
  // Runs `f(conn, in_doubt)` on a pooled connection; on a lost connection reconnects with
  // backoff and runs it again with in_doubt = true (the previous try may have committed); on a
  // deadlock runs it again.
  // `pool`: another pool than the store's (the heartbeat's own).
  template <class F>
  auto with_conn(const char* what, F&& f, Pool* pool = nullptr);
  void lost(const std::string& why);
  // Kinds (db ids) made READY here: queues their notifications for the other processes and
  // returns their pools, for this one's.
  std::vector<int> made_ready(const std::vector<std::int64_t>& kinds);
  std::vector<std::int64_t> all_kinds() const;                          // the bound scenario's kinds' db ids
  static std::vector<std::int64_t> kinds_in(const Result& r, int col);  // non-null ids in column col
  void flush_notifications();
  void notify(const std::vector<int>& pools);
  // As SqliteStore::end_session: the failed group's steps CANCELLED, then the release steps start
  // (the session stays ACTIVE until they are done) or the session ends. Kinds made READY are
  // appended to `kinds`.
  std::uint64_t end_session(Conn& c, std::int64_t session, const char* phase, const std::string& reason,
                            std::vector<std::int64_t>& kinds);
  void seed_capacity(Conn& c, const Scenario& sc);
  std::int64_t insert_processor(Conn& c);
  // k sessions and their plans in one transaction (submit_sessions); returns the first id.
  std::uint64_t submit_chunk(std::uint64_t k);
  StepRef step_ref(const Result& r, int row);

  Pool pool_;
  // The heartbeat's own connection: never behind the pool's connections, however busy they are.
  Pool beat_pool_;

  // Bound scenario.
  const Scenario* sc_ = nullptr;
  double scale_ = 1;
  std::vector<std::int64_t> kind_db_, tmpl_db_;              // scenario index → db id
  std::unordered_map<std::int64_t, int> kind_sc_, tmpl_sc_;  // db id → scenario index
  std::vector<std::string> pool_kinds_;                      // per pool: '{1,2}'
  std::vector<std::vector<std::int64_t>> pool_kind_ids_;     // per pool: its kinds' db ids
  std::vector<std::string> pool_claim_, claim_sql_;          // per pool: its claim's $1 and SQL

  // This process as a processor.
  std::atomic<std::int64_t> processor_{0};
  std::string host_, pools_;
  std::int64_t pid_ = 0;
  std::atomic<std::uint64_t> token_;

  // Reconnections: an episode is losses less than 5 s apart; heartbeat() records them.
  std::mutex lost_mu_;
  double lost_at_ = -1e300;
  std::uint64_t unrecorded_reconnects_ = 0;

  // Kinds made READY here whose notifications are not sent yet.
  std::mutex notify_mu_;
  std::vector<std::int64_t> unsent_;

  // The listening connection (promoter thread only); it also sends the batched notifications.
  std::unique_ptr<Conn> listen_;
  double listen_retry_at_ = 0, next_fallback_ = 0;
};

}  // namespace stepq::pg
