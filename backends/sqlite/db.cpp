#include "db.hpp"

#include <chrono>
#include <random>
#include <thread>

namespace stepq::sqlite {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, const std::string& doing) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  std::string msg = (file && *file) ? std::string(file) + ": " : std::string();
  msg += doing + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  throw DbError(msg, rc);
}

}  // namespace

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "preparing a statement");
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = o.s_;
    db_ = o.db_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, const std::string& v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(s_) ? sqlite3_sql(s_) : "";
  if (sql.size() > 60) sql = sql.substr(0, 60) + "…";
  sqlite3_reset(s_);
  fail(db_, rc, "running `" + sql + "`");
}

int Stmt::run() {
  while (step()) {
  }
  const int n = sqlite3_changes(db_);
  reset();
  return n;
}

std::string Stmt::text(int c) const {
  const auto* p = sqlite3_column_text(s_, c);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, c)) : std::string();
}

void before_first_use() {
  // SQLite starts every page cache with one bulk allocation of 20 pages: 86 KB for a pager of
  // 4 KiB pages, and every ephemeral b-tree has its own pager (the queue's statements open one for
  // a RETURNING clause, one for the session table's CHECK … IN list). glibc hands a freed block
  // that size back to the kernel (madvise) and faults it in again on the next statement
  // (bench/sqlite_cycle.cpp's bare loop, 3 runs each: 5.2-6.3k cycles/s with it, 7.9-9.3k without).
  // Without the bulk allocation pages are allocated one by one as needed. Process-wide, and
  // possible only before SQLite's first use (afterwards SQLITE_MISUSE, and nothing changes).
  static const int no_bulk_page_cache = sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  (void)no_bulk_page_cache;
}

Db::Db(const std::string& path, bool create) : path_(path) {
  before_first_use();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &h_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = h_ ? sqlite3_errmsg(h_) : sqlite3_errstr(rc);
    sqlite3_close_v2(h_);
    h_ = nullptr;
    throw DbError(path + ": cannot open the database (" + why + ")" +
                      (create ? "" : "; create it with `stepq live init --db sqlite:" + path + "`"),
                  rc);
  }
  sqlite3_extended_result_codes(h_, 1);
  sqlite3_busy_timeout(h_, 5000);
  // Small pages: a claim or a finish touches a handful of rows in different b-trees, and WAL
  // writes each touched page whole, so 1 KiB pages write a quarter of the bytes of the default
  // 4 KiB (bench/run_sqlite.sh: 7.0k → 10.9k cycles/s). Only takes effect on a new, empty file.
  if (create) sqlite3_exec(h_, "PRAGMA page_size = 1024", nullptr, nullptr, nullptr);
  // The first statement that reads the file tells a corrupt or foreign file apart.
  char* err = nullptr;
  rc = sqlite3_exec(h_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr, nullptr,
                    &err);
  if (rc != SQLITE_OK) {
    const std::string why = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    sqlite3_close_v2(h_);
    h_ = nullptr;
    throw DbError(path + ": not a usable SQLite database (" + why + ")", rc);
  }
  data_version_ = prepare("PRAGMA data_version");
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(h_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string why = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError(path_ + ": " + why, rc);
  }
}

// Prepared once: parsing "BEGIN IMMEDIATE" and "COMMIT" twice per cycle showed in profiles.
int Db::run_raw(Stmt& s) {
  const int rc = sqlite3_step(s.raw());
  sqlite3_reset(s.raw());
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

std::int64_t Db::data_version() {
  data_version_.step();
  const auto v = data_version_.i64(0);
  data_version_.reset();
  return v;
}

WriteTx::WriteTx(Db& db) : db_(db) {
  // busy_timeout already waits up to 5 s; beyond that, back off with jitter so several processes
  // stuck behind one long writer do not retry in lock step.
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int tries = 0;; ++tries) {
    const int rc = db_.begin_immediate();
    if (rc == SQLITE_OK) break;
    if ((rc & 0xff) != SQLITE_BUSY || tries >= 20) fail(db_.handle(), rc, "starting a write transaction");
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % (10 << std::min(tries, 5))));
  }
  open_ = true;
}

WriteTx::~WriteTx() {
  if (open_) db_.rollback();
}

void WriteTx::commit() {
  const int rc = db_.commit();
  if (rc != SQLITE_OK) fail(db_.handle(), rc, "committing");
  open_ = false;
}

}  // namespace stepq::sqlite
