// Zombies on PostgreSQL (live/zombie.hpp).
#include "live/zombie.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("zombie on PostgreSQL: a worker paused past its lease resumes, and none of its late finishes counts") {
  const std::string url = fresh_pg_url("zombie");
  zombie<PgDb>({"--db", url}, [&](const TempDir&) { return PgDb(url); });
}
