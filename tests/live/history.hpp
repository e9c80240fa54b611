// What the execution log of a finished run must show, whatever happened during it: every session
// ended, nothing left RUNNING or open, no step completed twice, no step running in two places at
// once. The SQL runs on SQLite (tests/live/db_check.hpp's SqlDb) and PostgreSQL (PgDb) alike.
#pragma once
#include <catch2/catch.hpp>

namespace stepq::test {

template <class Db>
void check_all_ended(Db& db, long long sessions) {
  CHECK(db.count("SELECT count(*) FROM session") == sessions);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase NOT IN ('COMPLETED', 'FAILED')") == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND coalesce(reason, '') = ''") == 0);
  CHECK(db.count("SELECT count(*) FROM session s JOIN step t ON t.session = s.id "
                 "WHERE s.phase = 'COMPLETED' AND t.phase != 4") == 0);
  CHECK(
      db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED' AND (steps_left != 0 OR finished_at IS NULL)") ==
      0);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase IN (0, 1, 2, 3)") == 0);
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL OR outcome IS NULL") == 0);
}

template <class Db>
void check_no_step_twice(Db& db) {
  for (const auto& r : db.rows("SELECT step, count(*) FROM execution WHERE outcome = 'completed' "
                               "GROUP BY step HAVING count(*) > 1 LIMIT 20"))
    UNSCOPED_INFO("step " << r[0] << " completed " << r[1] << " times");
  CHECK(db.count("SELECT count(*) FROM (SELECT step FROM execution WHERE outcome = 'completed' "
                 "GROUP BY step HAVING count(*) > 1) twice") == 0);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") ==
        db.count("SELECT count(*) FROM execution WHERE outcome = 'completed'"));
  // Each execution of a step ended before the next one began, and claims (fences) come in order.
  const std::string next =
      "SELECT step, fence, processor, outcome, ended_at, lead(started_at) OVER w AS next_start, "
      "lead(fence) OVER w AS next_fence, lead(processor) OVER w AS next_proc "
      "FROM execution WINDOW w AS (PARTITION BY step ORDER BY started_at, fence)";
  const std::string bad = "FROM (" + next +
                          ") n WHERE next_start IS NOT NULL AND "
                          "(ended_at IS NULL OR ended_at > next_start OR next_fence <= fence)";
  for (const auto& r : db.rows("SELECT step, fence, processor, outcome, ended_at - next_start, next_fence, next_proc " +
                               bad + " LIMIT 20"))
    UNSCOPED_INFO("step " << r[0] << ": claim " << r[1] << " by processor " << r[2] << " (" << r[3] << ") still ran "
                          << r[4] << " s into claim " << r[5] << " by processor " << r[6]);
  CHECK(db.count("SELECT count(*) " + bad) == 0);
  CHECK(db.count("SELECT count(*) FROM execution WHERE started_at < ready_at OR ended_at < started_at") == 0);
}

}  // namespace stepq::test
