// In-doubt writes on PostgreSQL (issue 19, item 3): every write the engine makes is run once with
// its connection dropped after the server answered and before the answer was read
// (pg::arm_lost_reply): the server committed, the client does not know. The store must find out
// what happened and neither repeat the write nor lose it. After each, the execution log must show
// every step run at most once at a time and completed at most once.
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <thread>

#include "backends/postgres/pg.hpp"
#include "backends/postgres/pg_store.hpp"
#include "core/scenario_load.hpp"
#include "live/faults_scenario.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq;
using stepq::test::PgDb;

namespace {

using test::faults::kScenario, test::faults::kFront, test::faults::kBack, test::faults::X;

struct Store {
  Scenario sc = parse_scenario(kScenario, "faults.json");
  std::string url = test::fresh_pg_url("faults");
  std::unique_ptr<pg::PgStore> store = open("test");
  PgDb db{url};

  std::unique_ptr<pg::PgStore> open(const std::string& host) {
    auto s = std::make_unique<pg::PgStore>(url, true);
    s->migrate();
    s->bind(sc, 0.01);
    s->register_processor(host, getpid(), "all");
    return s;
  }
  // Arms the fault for the statement starting with `prefix`, runs `write`, and checks that the
  // fault was taken (the write did reach that statement) and the log is sound.
  template <class F>
  auto in_doubt(const std::string& prefix, F&& write) {
    pg::arm_lost_reply(prefix);
    auto r = write();
    INFO("the fault for \"" << prefix << "\" was never taken");
    REQUIRE_FALSE(pg::lost_reply_armed());
    check_log();
    return r;
  }
  void check_log() {
    // Never two open executions of a step, an open one exactly for each RUNNING step, and one
    // completed execution for each COMPLETED step.
    CHECK(db.count("SELECT count(*) FROM (SELECT step FROM execution WHERE ended_at IS NULL GROUP BY step "
                   "HAVING count(*) > 1) two") == 0);
    CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") ==
          db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL"));
    CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") ==
          db.count("SELECT count(*) FROM execution WHERE outcome = 'completed'"));
  }
  long long phase_of(std::int64_t step) {
    return db.count("SELECT phase FROM step WHERE id = " + std::to_string(step));
  }
  long long attempt_of(std::int64_t step) {
    return db.count("SELECT attempt FROM step WHERE id = " + std::to_string(step));
  }
};

}  // namespace

TEST_CASE("faults on PostgreSQL: a claim whose answer was lost is found by its token, not made twice") {
  Store s;
  s.store->submit_session();
  const auto x = s.in_doubt("claim", [&] { return s.store->claim(kFront); });
  REQUIRE(x);
  CHECK(x->step == X);
  CHECK(s.db.count("SELECT count(*) FROM step WHERE phase = 3") == 1);  // not x and y
  CHECK(s.store->finish(*x, Outcome::completed()));
}

TEST_CASE("faults on PostgreSQL: a finish whose answer was lost counts once, whatever the outcome") {
  Store s;
  s.store->submit_session();
  SECTION("completed") {
    const auto x = s.store->claim(kFront);
    REQUIRE(s.in_doubt("complete", [&] { return s.store->finish(*x, Outcome::completed()); }));
    CHECK(s.phase_of(x->id) == 4);
    CHECK(s.db.count("SELECT deps_left FROM step WHERE num = 2") == 1);  // z waits for y only
    const auto y = s.store->claim(kFront);
    REQUIRE(s.store->finish(*y, Outcome::completed()));
    CHECK(s.store->claim(kBack));  // z READY once both were done
  }
  SECTION("a retry") {
    const auto x = s.store->claim(kFront);
    REQUIRE(s.in_doubt("wait", [&] { return s.store->finish(*x, Outcome::retry(10, "flaky")); }));
    CHECK(s.phase_of(x->id) == 1);
    CHECK(s.attempt_of(x->id) == 2);  // one attempt more, not two
  }
  SECTION("back to WAITING, not an attempt") {
    const auto x = s.store->claim(kFront);
    REQUIRE(s.in_doubt("wait", [&] { return s.store->finish(*x, Outcome::requeue(5)); }));
    CHECK(s.phase_of(x->id) == 1);
    CHECK(s.attempt_of(x->id) == 1);
  }
  SECTION("failed: the session fails once") {
    const auto x = s.store->claim(kFront);
    REQUIRE(s.in_doubt("COMMIT", [&] { return s.store->finish(*x, Outcome::failed("broken")); }));
    CHECK(s.phase_of(x->id) == 5);
    CHECK(s.db.count("SELECT count(*) FROM session WHERE phase = 'FAILED'") == 1);
    CHECK(s.db.count("SELECT count(*) FROM execution WHERE outcome = 'failed'") == 1);
  }
}

// What a completion made READY travels with its answer (here) and its notification (elsewhere):
// with the answer lost, both must still learn that pool back has work, not wait for a fallback poll.
TEST_CASE("faults on PostgreSQL: a completion whose answer was lost still wakes the pools, here and elsewhere") {
  Store s;
  auto listener = s.open("listener");
  listener->fallback_poll_s = 3600;  // what it hears comes from notifications only
  listener->changes_elsewhere();     // starts listening
  std::vector<int> woken;
  s.store->on_ready = [&](int pool) { woken.push_back(pool); };
  s.store->submit_session();
  const auto x = s.store->claim(kFront), y = s.store->claim(kFront);
  REQUIRE(s.store->finish(*x, Outcome::completed()));
  listener->changes_elsewhere();  // what came before
  woken.clear();
  REQUIRE(s.in_doubt("complete", [&] { return s.store->finish(*y, Outcome::completed()); }));  // z READY
  CHECK(std::find(woken.begin(), woken.end(), kBack) != woken.end());
  s.store->changes_elsewhere();  // this process's promoter sends what it queued
  bool heard = false;
  for (int i = 0; i < 200 && !heard; ++i) {
    const auto e = listener->changes_elsewhere();
    heard = e.any && e.ready.size() > static_cast<std::size_t>(kBack) && e.ready[kBack];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(heard);
  CHECK(s.store->claim(kBack));
}

TEST_CASE("faults on PostgreSQL: a submission whose answer was lost makes one session") {
  Store s;
  const auto id = s.in_doubt("COMMIT", [&] { return s.store->submit_session(); });
  CHECK(s.db.count("SELECT count(*) FROM session") == 1);
  CHECK(s.db.count("SELECT id FROM session") == static_cast<long long>(id));
  CHECK(s.db.count("SELECT count(*) FROM step") == 3);
  CHECK(s.store->submit_session() == id + 1);
}

TEST_CASE("faults on PostgreSQL: a batch submission whose first chunk's answer was lost makes each session once") {
  Store s;
  const auto first = s.in_doubt("COMMIT", [&] { return s.store->submit_sessions(300); });  // chunks of 256 and 44
  CHECK(first == 0);
  CHECK(s.db.count("SELECT count(*) FROM session") == 300);
  CHECK(s.db.count("SELECT max(id) FROM session") == 299);
  CHECK(s.db.count("SELECT count(*) FROM step") == 900);
}

TEST_CASE("faults on PostgreSQL: a heartbeat, the reaper and a graceful release whose answers were lost") {
  Store s;
  s.store->submit_session();
  SECTION("heartbeat") {
    CHECK(s.in_doubt("heartbeat", [&] { return s.store->heartbeat(); }));
  }
  SECTION("the reaper returns a dead processor's step once, as one more attempt") {
    auto other = s.open("other");
    const auto x = other->claim(kFront);
    REQUIRE(x);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its lease (0.2 s) runs out
    s.in_doubt("COMMIT", [&] { return s.store->reap(0.2); });
    CHECK(s.phase_of(x->id) == 2);
    CHECK(s.attempt_of(x->id) == 2);
    CHECK(s.db.count("SELECT count(*) FROM execution WHERE outcome = 'reaped'") == 1);
    CHECK_FALSE(other->finish(*x, Outcome::completed()));  // its claim is gone
  }
  SECTION("release_running gives the step back once, as the same attempt") {
    const auto x = s.store->claim(kFront);
    s.in_doubt("COMMIT", [&] { return s.store->release_running(); });
    CHECK(s.phase_of(x->id) == 2);
    CHECK(s.attempt_of(x->id) == 1);
    CHECK(s.db.count("SELECT count(*) FROM execution WHERE outcome = 'released'") == 1);
  }
}

TEST_CASE("faults on PostgreSQL: an operator's cancel whose answer was lost says it cancelled") {
  Store s;
  s.store->submit_session();
  const auto r = s.in_doubt("COMMIT", [&] { return s.store->cancel_session(0); });
  CHECK(r.what == live::CancelResult::What::cancelled);
  CHECK(r.steps == 3);
  CHECK(r.phase == "CANCELLED");
  CHECK(s.db.count("SELECT count(*) FROM session WHERE phase = 'CANCELLED'") == 1);
}
