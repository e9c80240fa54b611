// Zombies on SQLite (live/zombie.hpp).
#include "live/zombie.hpp"

using namespace stepq::test;

TEST_CASE("zombie: a worker paused past its lease resumes, and none of its late finishes counts") {
  zombie<SqlDb>({}, [](const TempDir& dir) { return SqlDb(dir / "stepq.db"); });
}
