// A thin RAII layer over the SQLite C API: a connection, prepared statements, and write
// transactions that start with BEGIN IMMEDIATE (queues.md §2: a deferred transaction that reads
// first cannot upgrade to a write once another connection has committed; busy_timeout does not
// help there).
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace stepq::sqlite {

// Every SQLite failure, with the file and what was being done.
struct DbError : std::runtime_error {
  DbError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql);
  Stmt(Stmt&& o) noexcept : s_(o.s_), db_(o.db_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt() { sqlite3_finalize(s_); }

  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, const std::string& v);
  Stmt& bind_null(int i);
  // true = a row is available; false = done. Throws DbError.
  bool step();
  // Runs to completion; returns sqlite3_changes().
  int run();
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double f64(int c) const { return sqlite3_column_double(s_, c); }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string text(int c) const;
  sqlite3_stmt* raw() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  sqlite3* db_ = nullptr;
};

class Db {
 public:
  // Opens (creating when `create`) and sets WAL, synchronous=NORMAL, busy timeout, foreign keys.
  // Throws DbError naming the file, e.g. when it is not a SQLite database.
  Db(const std::string& path, bool create);
  Db(const Db&) = delete;
  ~Db() { sqlite3_close_v2(h_); }

  sqlite3* handle() { return h_; }
  const std::string& path() const { return path_; }
  void exec(const char* sql);
  Stmt prepare(const char* sql) { return Stmt(h_, sql); }
  std::int64_t changes() { return sqlite3_changes64(h_); }
  // PRAGMA data_version: changes when another connection commits. Cheap: no I/O.
  std::int64_t data_version();
  // Transaction control; SQLite result codes (SQLITE_OK, SQLITE_BUSY, …).
  int begin_immediate() { return run_raw(begin_); }
  int commit() { return run_raw(commit_); }
  void rollback() { run_raw(rollback_); }

 private:
  int run_raw(Stmt& s);
  sqlite3* h_ = nullptr;
  std::string path_;
  Stmt data_version_, begin_, commit_, rollback_;
};

// BEGIN IMMEDIATE with jittered retry on SQLITE_BUSY (beyond the busy timeout); rolls back in
// the destructor unless commit() was called.
class WriteTx {
 public:
  explicit WriteTx(Db& db);
  WriteTx(const WriteTx&) = delete;
  ~WriteTx();
  void commit();

 private:
  Db& db_;
  bool open_ = false;
};

// Fault injection, for tests only (tests/live/test_sqlite_faults.cpp; backends/sqlite/faults.cpp).
// The first call registers a VFS wrapping the default one as the new default, so it reaches the
// connections opened after it (call arm_fault(Fault::none) before opening them); stepq never calls
// it, and until then SQLite runs unwrapped. Once installed, an unarmed fault costs a relaxed atomic
// load per file write, sync and shared-memory lock.
enum class Fault {
  none,
  write,  // xWrite fails with SQLITE_IOERR_WRITE (a failing disk)
  full,   // xWrite fails with SQLITE_FULL (a full disk)
  sync,   // xSync fails with SQLITE_IOERR_FSYNC (WAL syncs only at a checkpoint under synchronous=NORMAL)
  busy,   // WAL's write lock is refused with SQLITE_BUSY (another connection writing)
};
// Lets the next `skip` calls of that kind through, in any connection of this process, then fails
// `times` of them; replaces what was armed before.
void arm_fault(Fault kind, int skip = 0, int times = 1);
// Failures still to inject: 0 once all that were armed were injected.
int fault_pending();
// Failures injected since the last arm_fault.
int faults_injected();

// Process-wide SQLite settings that must come before SQLite's first use (Db's constructor, and
// arm_fault before it registers its VFS).
void before_first_use();

}  // namespace stepq::sqlite
