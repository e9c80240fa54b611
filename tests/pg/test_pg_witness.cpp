// The outside witness (tests/live/witness.hpp) on PostgreSQL.
#include "live/witness.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("witness on PostgreSQL: programs launched across kills and a zombie each ran once, as the log says") {
  const std::string url = fresh_pg_url("witness");
  witness<PgDb>({"--db", url}, [&](const TempDir&) { return PgDb(url); });
}
