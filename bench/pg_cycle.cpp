// Claim→finish cycles per second on PostgreSQL: stepq's queue code (PgStore::claim + finish, each
// one autocommit statement from backends/postgres/sql/queue.hpp) against pgbench running the very
// same two statements (bench/run_pg.sh).
//
//   pg_cycle seed URL FINISHED        schema, the bench scenario, and FINISHED completed
//                                     single-step sessions (each with its execution row): the
//                                     history a long-running queue carries
//   pg_cycle reset URL READY          drop the READY batch of the previous run, add READY fresh
//                                     single-step sessions, VACUUM ANALYZE (as autovacuum would)
//   pg_cycle script                   print the pgbench script: the claim and the completion SQL,
//                                     parameters as pgbench variables
//   pg_cycle stepq THREADS URL CYCLES THREADS threads, one PgStore (a connection per thread),
//                                     CYCLES claim→finish cycles in all
// Prints one JSON line per run: {"variant", "threads", "cycles", "seconds", "cycles_per_s"}.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "backends/postgres/pg.hpp"
#include "backends/postgres/pg_store.hpp"
#include "backends/postgres/sql/queue.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;

namespace {

const char* kScenario = R"({"name": "cycle", "seed": 1, "sessions": 1,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"work": {"threads": 1, "service_s": 0}},
  "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]}]})";

// Ids of the READY batch start here, above any finished history.
constexpr long long kBase = 100000000;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "script") {
      // $n → :variables; pgbench -M prepared sends them as parameters, as libpq does for stepq.
      std::string claim =
          replace_all(replace_all(replace_all(pg::sql::claim(false), "$1", ":kind"), "$2", ":proc"), "$3", ":tok");
      // $4: what the step found, none here (as for most completions).
      std::string complete =
          replace_all(replace_all(replace_all(replace_all(pg::sql::kComplete, "$1", ":id"), "$2", ":fence"),
                                  "$3::float8", "1::float8"),
                      "$4::text", "NULL::text");
      std::printf("\\set proc :client_id + 1\n\\set tok random(1, 1000000000000)\n\\set kind 1\n%s \\gset\n%s;\n",
                  replace_all(claim, "\n", " ").c_str(), replace_all(complete, "\n", " ").c_str());
      return 0;
    }
    if (cmd == "seed" && argc == 4) {
      const std::string url = argv[2];
      const long long finished = std::atoll(argv[3]);
      const Scenario sc = parse_scenario(kScenario, "cycle.json");
      pg::PgStore store(url, true);
      store.migrate();
      store.bind(sc, 1);
      pg::Conn c(url, url);
      c.exec("TRUNCATE execution, step_next, step, session, processor");
      // The same rows submit_session and a completed run leave, made in bulk.
      c.exec(
          "INSERT INTO session(id, template, phase, steps_left, created_at, finished_at) "
          "SELECT g, (SELECT id FROM template WHERE name = 'one'), 'COMPLETED', 0, stepq_now() - 3600, stepq_now() - "
          "3500 "
          "FROM generate_series(0, " +
          std::to_string(finished - 1) + ") g");
      c.exec(
          "INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, fence, created_at, "
          "activated_at, "
          "ready_at, claimed_at, finished_at) SELECT g + 1, g, 0, (SELECT id FROM template WHERE name = 'one'), "
          "(SELECT id FROM kind WHERE name = 'work'), 4, 0, 1, 1, stepq_now() - 3600, stepq_now() - 3600, stepq_now() "
          "- 3600, "
          "stepq_now() - 3550, stepq_now() - 3500 FROM generate_series(0, " +
          std::to_string(finished - 1) + ") g");
      c.exec(
          "INSERT INTO execution(step, fence, kind, attempt, processor, ready_at, started_at, ended_at, outcome) "
          "SELECT id, 1, kind, 1, 1, ready_at, claimed_at, finished_at, 'completed' FROM step");
      c.exec("VACUUM ANALYZE");
      return 0;
    }
    if (cmd == "reset" && argc == 4) {
      const std::string url = argv[2];
      const long long ready = std::atoll(argv[3]);
      pg::Conn c(url, url);
      const std::string b = std::to_string(kBase);
      c.exec("DELETE FROM execution WHERE step >= " + b);
      c.exec("DELETE FROM step WHERE id >= " + b);
      c.exec("DELETE FROM session WHERE id >= " + b);
      c.exec(
          "INSERT INTO session(id, template, phase, steps_left, created_at) "
          "SELECT " +
          b +
          " + g, (SELECT id FROM template WHERE name = 'one'), 'ACTIVE', 1, stepq_now() "
          "FROM generate_series(0, " +
          std::to_string(ready - 1) + ") g");
      c.exec(
          "INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, "
          "ready_at) "
          "SELECT " +
          b + " + g, " + b +
          " + g, 0, (SELECT id FROM template WHERE name = 'one'), "
          "(SELECT id FROM kind WHERE name = 'work'), 2, 0, 1, stepq_now(), stepq_now(), stepq_now() + g * 1e-6 "
          "FROM generate_series(0, " +
          std::to_string(ready - 1) + ") g");
      c.exec("VACUUM ANALYZE session");
      c.exec("VACUUM ANALYZE step");
      c.exec("VACUUM ANALYZE execution");
      c.exec("CHECKPOINT");
      return 0;
    }
    if (cmd == "stepq" && argc == 5) {
      const int threads = std::atoi(argv[2]);
      const std::string url = argv[3];
      const long long cycles = std::atoll(argv[4]);
      const Scenario sc = parse_scenario(kScenario, "cycle.json");
      pg::PgStore store(url, false);
      store.bind(sc, 1);
      store.register_processor("bench", 1, "work=" + std::to_string(threads));
      std::atomic<long long> left{cycles}, empty{0};
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> ts;
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
          while (left.fetch_sub(1) > 0) {
            auto s = store.claim(0);
            if (!s) {
              empty++;
              continue;
            }
            if (!store.finish(*s, Outcome::completed())) std::exit(3);
          }
        });
      for (auto& t : ts) t.join();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const long long done = cycles - empty.load();
      // The client's own CPU per cycle: what stepq's code costs, whatever the machine's noise.
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      const double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
      std::printf(
          "{\"variant\": \"stepq\", \"threads\": %d, \"cycles\": %lld, \"seconds\": %.3f, \"cycles_per_s\": %.0f, "
          "\"client_cpu_us_per_cycle\": %.1f}\n",
          threads, done, secs, done / secs, 1e6 * cpu / done);
      return empty.load() > 0 ? 4 : 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_cycle: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: pg_cycle seed URL FINISHED | reset URL READY | script | stepq THREADS URL CYCLES\n");
  return 2;
}
