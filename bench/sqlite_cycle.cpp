// Claim→finish cycles per second on SQLite (WAL, synchronous=NORMAL): stepq's queue code
// (SqliteStore::claim + finish) against bare loops running the same SQL (backends/sqlite/sql/queue.hpp, the text
// SqliteStore prepares) on the SQLite C API with prepared statements and the same transactions:
// BEGIN IMMEDIATE; claim UPDATE … RETURNING; INSERT INTO execution; COMMIT, then BEGIN IMMEDIATE;
// fenced UPDATE to COMPLETED; the successor probe (and the activation UPDATE when there are
// successors: never here); session count-down; execution UPDATE; COMMIT.
//
//   stepq      SqliteStore: one connection per process behind a mutex, taken once per transaction.
//   bare       the same design by hand: one connection, one std::mutex taken once per transaction
//              (a worker must let go of the connection between claim and finish: its handler runs
//              there).
//   bare-conn  one connection per thread, no mutex: SQLite's own locking (busy timeout 5 s).
//
//   sqlite_cycle seed FILE CYCLES         make FILE: CYCLES READY single-step sessions, by stepq's
//                                         own submit_session
//   sqlite_cycle VARIANT THREADS FILE     copy FILE into a fresh temporary directory, run THREADS
//                                         threads of claim→finish until the queue is empty
// Every run starts from the same bytes, checks afterwards that every session COMPLETED with one
// finished execution per step, and prints one JSON line:
//   {"variant", "threads", "cycles", "seconds", "cycles_per_s"}.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/live/store.hpp"
#include "backends/sqlite/sql/queue.hpp"
#include "backends/sqlite/sqlite_store.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;
namespace fs = std::filesystem;

namespace {

// The smallest scenario: one kind, one single-step template (as scenarios/mm4.json).
const char* kScenario = R"({"name": "cycle", "seed": 1, "sessions": 1,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"work": {"threads": 1, "service_s": 0}},
  "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]}]})";

[[noreturn]] void die(sqlite3* db, const char* doing) {
  std::fprintf(stderr, "sqlite_cycle: %s: %s\n", doing, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

sqlite3* open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    die(db, "open");
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr, nullptr,
                   nullptr) != SQLITE_OK)
    die(db, "pragmas");
  return db;
}

std::int64_t scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) die(db, sql);
  if (sqlite3_step(s) != SQLITE_ROW) die(db, sql);
  const auto v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

double now() { return live::wall_now(); }

// One connection and its prepared statements: the bare loop.
struct Bare {
  sqlite3* db;
  std::int64_t processor;
  sqlite3_stmt *claim, *insert_exec, *finish, *has_next, *activate, *count_down, *end_exec, *begin, *commit, *rollback;

  Bare(const std::string& path, std::int64_t proc) : db(open(path)), processor(proc) {
    const std::int64_t kind = scalar(db, "SELECT id FROM kind WHERE name = 'work'");
    claim = prep(sqlite::sql::claim({kind}).c_str());
    insert_exec = prep(sqlite::sql::kInsertExecution);
    finish = prep(sqlite::sql::kFinishCompleted);
    has_next = prep(sqlite::sql::kHasNext);
    activate = prep(sqlite::sql::kActivateNext);
    count_down = prep(sqlite::sql::kCountDownSession);
    end_exec = prep(sqlite::sql::kEndExecution);
    begin = prep("BEGIN IMMEDIATE");
    commit = prep("COMMIT");
    rollback = prep("ROLLBACK");
  }
  ~Bare() {
    for (auto* s : {claim, insert_exec, finish, has_next, activate, count_down, end_exec, begin, commit, rollback})
      sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
  sqlite3_stmt* prep(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) die(db, "prepare");
    return s;
  }
  void run(sqlite3_stmt* s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) die(db, sqlite3_sql(s));
  }

  struct Claimed {
    std::int64_t id, fence, session;
  };
  // Transaction 1: the claim and its execution-log row. false = the queue is empty.
  bool claim_one(Claimed& c) {
    run(begin);
    const double t = now();
    sqlite3_bind_int64(claim, 1, processor);
    sqlite3_bind_double(claim, 2, t);
    const int rc = sqlite3_step(claim);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(claim);
      if (rc != SQLITE_DONE) die(db, "claim");
      run(rollback);
      return false;
    }
    c = {sqlite3_column_int64(claim, 0), sqlite3_column_int64(claim, 1), sqlite3_column_int64(claim, 2)};
    const auto kind = sqlite3_column_int64(claim, 5), attempt = sqlite3_column_int64(claim, 6);
    const double ready = sqlite3_column_double(claim, 7);
    run(claim);
    sqlite3_bind_int64(insert_exec, 1, c.id);
    sqlite3_bind_int64(insert_exec, 2, c.fence);
    sqlite3_bind_int64(insert_exec, 3, kind);
    sqlite3_bind_int64(insert_exec, 4, attempt);
    sqlite3_bind_int64(insert_exec, 5, processor);
    sqlite3_bind_double(insert_exec, 6, ready);
    sqlite3_bind_double(insert_exec, 7, t);
    run(insert_exec);
    run(commit);
    return true;
  }
  // Transaction 2: the fenced completion, activation of successors, session count-down, log row.
  void finish_one(const Claimed& c) {
    run(begin);
    const double t = now();
    sqlite3_bind_int64(finish, 1, c.id);
    sqlite3_bind_int64(finish, 2, c.fence);
    sqlite3_bind_double(finish, 3, t);
    run(finish);
    const bool applied = sqlite3_changes(db) == 1;
    if (applied) {
      sqlite3_bind_int64(has_next, 1, c.id);
      const bool has = sqlite3_step(has_next) == SQLITE_ROW && sqlite3_column_int(has_next, 0) != 0;
      sqlite3_reset(has_next);
      if (has) {
        sqlite3_bind_int64(activate, 1, c.id);
        sqlite3_bind_double(activate, 2, t);
        run(activate);
      }
      sqlite3_bind_int64(count_down, 1, c.session);
      sqlite3_bind_double(count_down, 2, t);
      run(count_down);
    }
    sqlite3_bind_int64(end_exec, 1, c.id);
    sqlite3_bind_int64(end_exec, 2, c.fence);
    sqlite3_bind_double(end_exec, 3, t);
    sqlite3_bind_text(end_exec, 4, applied ? "completed" : "lost", -1, SQLITE_STATIC);
    sqlite3_bind_null(end_exec, 5);
    run(end_exec);
    run(commit);
  }
};

void seed(const std::string& path, int cycles, const Scenario& sc) {
  sqlite::SqliteStore st(path, true);
  st.migrate();
  st.bind(sc, 1);
  for (int i = 0; i < cycles; ++i) st.submit_session();
}

// Runs `threads` copies of body (each returns its cycle count); returns the wall seconds.
double timed(int threads, const std::function<int()>& body, int& done) {
  std::vector<int> counts(threads);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { counts[t] = body(); });
  for (auto& t : ts) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  done = 0;
  for (int c : counts) done += c;
  return s;
}

// Every session COMPLETED, every step COMPLETED, one finished execution per step.
bool check(const std::string& path, int cycles) {
  sqlite3* db = open(path);
  const bool ok =
      scalar(db, "SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == cycles &&
      scalar(db, "SELECT count(*) FROM step WHERE phase = 4") == cycles &&
      scalar(db, "SELECT count(*) FROM execution WHERE outcome = 'completed' AND ended_at IS NOT NULL") == cycles &&
      scalar(db, "SELECT count(*) FROM execution") == cycles;
  sqlite3_close_v2(db);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: %s seed FILE CYCLES\n"
                 "       %s stepq|bare|bare-conn THREADS FILE\n",
                 argv[0], argv[0]);
    return 2;
  }
  const std::string variant = argv[1];
  const Scenario sc = parse_scenario(kScenario, "cycle.json");
  if (variant == "seed") {
    fs::remove(argv[2]);
    seed(argv[2], std::stoi(argv[3]), sc);
    return 0;
  }
  if (variant != "stepq" && variant != "bare" && variant != "bare-conn") {
    std::fprintf(stderr, "sqlite_cycle: unknown variant '%s' (stepq, bare, bare-conn)\n", variant.c_str());
    return 2;
  }
  const int threads = std::stoi(argv[2]);
  char tmpl[] = "/tmp/stepq-bench-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const std::string path = (dir / "q.db").string();
  fs::copy_file(argv[3], path);  // closed cleanly by `seed`: no WAL beside it

  // The stepq variant opens its store before anything else touches SQLite, as `stepq live run`
  // does (its Db makes a process-wide setting that only takes effect before SQLite's first use);
  // the bare variants run on SQLite's defaults.
  const char* const count_ready = "SELECT count(*) FROM step WHERE phase = 2";
  double seconds = 0;
  int cycles = 0, done = 0;
  if (variant == "stepq") {
    sqlite::SqliteStore store(path, false);
    store.bind(sc, 1);
    store.register_processor("bench", getpid(), "work=" + std::to_string(threads));
    cycles = static_cast<int>(scalar(store.db().handle(), count_ready));
    seconds = timed(
        threads,
        [&] {
          int n = 0;
          while (auto s = store.claim(0)) {
            store.finish(*s, Outcome::completed());
            ++n;
          }
          return n;
        },
        done);
  } else {
    // The processor row stepq's register_processor writes, by the same hand.
    std::int64_t proc;
    {
      Bare b(path, 0);
      cycles = static_cast<int>(scalar(b.db, count_ready));
      if (sqlite3_exec(b.db,
                       "INSERT INTO processor(host, pid, pools, started_at, heartbeat_at) "
                       "VALUES ('bench', 0, 'work', 0, 0)",
                       nullptr, nullptr, nullptr) != SQLITE_OK)
        die(b.db, "insert processor");
      proc = sqlite3_last_insert_rowid(b.db);
    }
    if (variant == "bare") {
      Bare b(path, proc);
      std::mutex mu;
      seconds = timed(
          threads,
          [&] {
            int n = 0;
            for (Bare::Claimed c;; ++n) {
              {
                std::lock_guard lk(mu);
                if (!b.claim_one(c)) break;
              }
              std::lock_guard lk(mu);
              b.finish_one(c);
            }
            return n;
          },
          done);
    } else {
      std::vector<std::unique_ptr<Bare>> conns;
      for (int t = 0; t < threads; ++t) conns.push_back(std::make_unique<Bare>(path, proc));
      std::atomic<int> next{0};
      seconds = timed(
          threads,
          [&] {
            Bare* b = conns[next++].get();
            int n = 0;
            for (Bare::Claimed c; b->claim_one(c); ++n) b->finish_one(c);
            return n;
          },
          done);
    }
  }
  const bool ok = cycles > 0 && done == cycles && check(path, cycles);
  fs::remove_all(dir);
  if (!ok) {
    std::fprintf(stderr, "sqlite_cycle: %s: %d of %d cycles done, or the tables are not all COMPLETED\n",
                 variant.c_str(), done, cycles);
    return 1;
  }
  std::printf("{\"variant\": \"%s\", \"threads\": %d, \"cycles\": %d, \"seconds\": %.4f, \"cycles_per_s\": %.0f}\n",
              variant.c_str(), threads, cycles, seconds, cycles / seconds);
  return 0;
}
