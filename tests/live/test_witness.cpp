// The outside witness (live/witness.hpp) on SQLite.
#include "live/witness.hpp"

using namespace stepq::test;

TEST_CASE("witness: programs launched across kills and a zombie each ran once, as the execution log says") {
  witness<SqlDb>({}, [](const TempDir& dir) { return SqlDb(dir / "stepq.db"); });
}
