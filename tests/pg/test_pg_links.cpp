// Two processes on one PostgreSQL database share a link and its FTS slots (live/shared_links.hpp).
#include "live/shared_links.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("live links on PostgreSQL: two processes' transfers share one link") {
  const std::string url = fresh_pg_url("links_share");
  two_processes_one_link<PgDb>(0, {"--db", url}, [&](const TempDir&) { return PgDb(url); });
}

TEST_CASE("live links on PostgreSQL: under max_active 1 the second process's transfer waits for the slot") {
  const std::string url = fresh_pg_url("links_cap");
  two_processes_one_link<PgDb>(1, {"--db", url}, [&](const TempDir&) { return PgDb(url); });
}
