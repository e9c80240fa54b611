// A pool of several kinds on PostgreSQL looks at each kind's oldest 64 READY steps (sql::claim).
// With more than 64 claimers in flight every one of those may be locked while more steps are
// READY (issue 19, item 8): the claim must still find one. Another connection's open transaction
// holds the locks a crowd of claimers would.
#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include "backends/postgres/pg_store.hpp"
#include "core/scenario_load.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq;

TEST_CASE("claims on PostgreSQL: a pool of several kinds claims past 64 locked READY steps of each kind") {
  const Scenario sc = parse_scenario(R"({"name": "crowd", "seed": 1, "sessions": 70,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "pools": {"front": {"threads": 1, "kinds": ["a", "b"]}},
    "kinds": {"a": {"service_s": 1}, "b": {"service_s": 1}},
    "templates": [{"name": "t", "steps": [{"id": "x", "kind": "a"}, {"id": "y", "kind": "b"}]}]})",
                                     "crowd.json");
  const std::string url = test::fresh_pg_url("crowd");
  pg::PgStore store(url, true);
  store.migrate();
  store.bind(sc, 0.01);
  store.register_processor("test", getpid(), "all");
  store.submit_sessions(70);  // 70 READY steps of each kind

  // The oldest 64 READY steps of each kind, locked as 128 claimers in flight would hold them.
  PGconn* crowd = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(crowd) == CONNECTION_OK);
  auto exec = [&](const std::string& q) {
    PGresult* r = PQexec(crowd, q.c_str());
    const auto st = PQresultStatus(r);
    const int rows = PQntuples(r);
    PQclear(r);
    REQUIRE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK));
    return rows;
  };
  exec("BEGIN");
  for (const char* k : {"a", "b"})
    REQUIRE(exec(std::string("SELECT s.id FROM step s JOIN kind k ON k.id = s.kind WHERE k.name = '") + k +
                 "' AND s.phase = 2 ORDER BY s.ready_at, s.id LIMIT 64 FOR UPDATE OF s") == 64);

  const auto got = store.claim(0);
  REQUIRE(got);
  CHECK(got->session >= 64);  // one that no claimer in flight holds
  exec("ROLLBACK");
  PQfinish(crowd);
  test::PgDb db(url);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") == 1);
}
