// Claim→finish cycles per second on SQLite (WAL, synchronous=NORMAL): stepq's queue code
// (SqliteStore::claim + finish) against a bare loop running the same SQL (queue_sql.hpp) on the
// SQLite C API, with the same design: one connection per process, shared by the threads behind a
// mutex, BEGIN IMMEDIATE for each of the two transactions of a cycle, statements prepared once.
// Both start from the same file, made by stepq (so both have its 1 KiB pages).
//
//   sqlite_cycle VARIANT THREADS CYCLES      VARIANT = stepq | bare
// Prints one JSON line: {"variant", "threads", "cycles", "seconds", "cycles_per_s"}.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/live/store.hpp"
#include "backends/sqlite/queue_sql.hpp"
#include "backends/sqlite/sqlite_store.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;

namespace {

const char* kScenario = R"({"name": "cycle", "seed": 1, "sessions": 1,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"work": {"threads": 1, "service_s": 0}},
  "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]}]})";

// The bare loop: same statements, same transactions, no stepq types in between.
struct Bare {
  sqlite3* db = nullptr;
  std::mutex mu;
  sqlite3_stmt *claim, *insert_exec, *finish, *activate, *count_down, *end_exec, *begin, *commit, *rollback;
  explicit Bare(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr, nullptr, nullptr);
    claim = prep(sqlite::sql::claim({1}).c_str());
    insert_exec = prep(sqlite::sql::kInsertExecution);
    finish = prep(sqlite::sql::kFinishCompleted);
    activate = prep(sqlite::sql::kActivateNext);
    count_down = prep(sqlite::sql::kCountDownSession);
    end_exec = prep(sqlite::sql::kEndExecution);
    begin = prep("BEGIN IMMEDIATE");
    commit = prep("COMMIT");
    rollback = prep("ROLLBACK");
  }
  sqlite3_stmt* prep(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
      std::exit(1);
    }
    return s;
  }
  static double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  static void done(sqlite3_stmt* s) {
    while (sqlite3_step(s) == SQLITE_ROW) {
    }
    sqlite3_reset(s);
  }
  bool cycle() {
    std::lock_guard lk(mu);
    done(begin);
    const double t = now();
    sqlite3_bind_int64(claim, 1, 1);
    sqlite3_bind_double(claim, 2, t);
    if (sqlite3_step(claim) != SQLITE_ROW) {
      sqlite3_reset(claim);
      done(rollback);
      return false;
    }
    const auto id = sqlite3_column_int64(claim, 0), fence = sqlite3_column_int64(claim, 1),
               session = sqlite3_column_int64(claim, 2), kind = sqlite3_column_int64(claim, 5),
               attempt = sqlite3_column_int64(claim, 6);
    const double ready = sqlite3_column_double(claim, 7);
    done(claim);
    sqlite3_bind_int64(insert_exec, 1, id);
    sqlite3_bind_int64(insert_exec, 2, fence);
    sqlite3_bind_int64(insert_exec, 3, kind);
    sqlite3_bind_int64(insert_exec, 4, attempt);
    sqlite3_bind_int64(insert_exec, 5, 1);
    sqlite3_bind_double(insert_exec, 6, ready);
    sqlite3_bind_double(insert_exec, 7, t);
    done(insert_exec);
    done(commit);

    done(begin);
    const double t2 = now();
    sqlite3_bind_int64(finish, 1, id);
    sqlite3_bind_int64(finish, 2, fence);
    sqlite3_bind_double(finish, 3, t2);
    done(finish);
    sqlite3_bind_int64(activate, 1, id);
    sqlite3_bind_double(activate, 2, t2);
    done(activate);
    sqlite3_bind_int64(count_down, 1, session);
    sqlite3_bind_double(count_down, 2, t2);
    done(count_down);
    sqlite3_bind_int64(end_exec, 1, id);
    sqlite3_bind_int64(end_exec, 2, fence);
    sqlite3_bind_double(end_exec, 3, t2);
    sqlite3_bind_text(end_exec, 4, "completed", -1, SQLITE_STATIC);
    sqlite3_bind_null(end_exec, 5);
    done(end_exec);
    done(commit);
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s stepq|bare THREADS CYCLES\n", argv[0]);
    return 2;
  }
  const std::string variant = argv[1];
  const int threads = std::stoi(argv[2]);
  const int cycles = std::stoi(argv[3]);
  char tmpl[] = "/tmp/stepq-bench-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  const std::string path = (dir / "q.db").string();
  const Scenario sc = parse_scenario(kScenario, "cycle.json");
  {
    // Both variants start from the same table: `cycles` READY single-step sessions.
    sqlite::SqliteStore seed(path, true);
    seed.migrate();
    seed.bind(sc, 1);
    for (int i = 0; i < cycles; ++i) seed.submit_session();
  }
  double seconds = 0;
  int done = 0;
  if (variant == "stepq") {
    sqlite::SqliteStore store(path, false);
    store.bind(sc, 1);
    store.register_processor("bench", getpid(), "work=" + std::to_string(threads));
    std::vector<int> counts(threads);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        while (auto s = store.claim(0)) {
          store.finish(*s, Outcome::completed());
          counts[t]++;
        }
      });
    for (auto& t : ts) t.join();
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int c : counts) done += c;
  } else {
    Bare bare(path);
    std::vector<int> counts(threads);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        while (bare.cycle()) counts[t]++;
      });
    for (auto& t : ts) t.join();
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int c : counts) done += c;
  }
  std::filesystem::remove_all(dir);
  if (done != cycles) {
    std::fprintf(stderr, "only %d of %d cycles done\n", done, cycles);
    return 1;
  }
  std::printf("{\"variant\": \"%s\", \"threads\": %d, \"cycles\": %d, \"seconds\": %.4f, \"cycles_per_s\": %.0f}\n",
              variant.c_str(), threads, cycles, seconds, cycles / seconds);
  return 0;
}
