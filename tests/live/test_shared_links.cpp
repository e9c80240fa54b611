// Two processes on one SQLite file share a link and its FTS slots (shared_links.hpp).
#include "live/shared_links.hpp"

using namespace stepq::test;

TEST_CASE("live links on SQLite: two processes' transfers share one link") {
  two_processes_one_link<SqlDb>(0, {}, [](const TempDir& d) { return SqlDb(d / "stepq.db"); });
}

TEST_CASE("live links on SQLite: under max_active 1 the second process's transfer waits for the slot") {
  two_processes_one_link<SqlDb>(1, {}, [](const TempDir& d) { return SqlDb(d / "stepq.db"); });
}
