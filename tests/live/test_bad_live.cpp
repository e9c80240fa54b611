// Bad input to `stepq live`: a clear message naming the file or argument, exit status 2, and
// the sessions already in the database untouched.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

void bad(const Result& r, const std::vector<std::string>& says) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 2);
  for (const auto& s : says) CHECK_THAT(r.err, Catch::Contains(s));
}

}  // namespace

TEST_CASE("live bad input: a corrupt database file is refused by every command, and left as it was") {
  TempDir dir;
  {
    std::ofstream f(dir / "junk.db", std::ios::binary);
    std::mt19937 g(1);
    for (int i = 0; i < 8192; ++i) f.put(static_cast<char>(g()));
  }
  const std::string before = Proc::slurp(dir / "junk.db");
  const std::string sc = source("scenarios/mm4.json");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"live", "status", "--db", "sqlite:junk.db"},
           {"live", "submit", "--db", "sqlite:junk.db", sc, "--sessions", "1"},
           {"live", "run", "--db", "sqlite:junk.db", sc, "--until-idle"},
           {"live", "init", "--db", "sqlite:junk.db"}})
    bad(run_stepq(args, dir.path), {"junk.db", "not a"});
  CHECK(Proc::slurp(dir / "junk.db") == before);
}

TEST_CASE("live bad input: a database of a newer schema is refused, not migrated down") {
  TempDir dir;
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  SqlDb(dir / "stepq.db").exec("PRAGMA user_version = 99");
  bad(run_stepq({"live", "init"}, dir.path), {"stepq.db", "schema version 99", "newer"});
  bad(run_stepq({"live", "status"}, dir.path), {"schema version 99"});
  bad(run_stepq({"live", "run", source("scenarios/mm4.json"), "--until-idle"}, dir.path), {"schema version 99"});
  CHECK(SqlDb(dir / "stepq.db").count("PRAGMA user_version") == 99);
}

TEST_CASE("live bad input: a scenario that does not match the submitted sessions is refused; they stay as they were") {
  TempDir dir;
  const std::string twin = source("tests/live/twin.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", twin, "--sessions", "5"}, dir.path).status == 0);
  // Another scenario altogether: its template does not exist there.
  bad(run_stepq({"live", "run", source("scenarios/mm4.json"), "--until-idle"}, dir.path),
      {"template 'session'", "mm4.json", "does not define"});
  // The same template name, but its first step of another kind.
  bad(run_stepq({"live", "run", twin, "--set", "/templates/0/steps/0/kind=storage", "--until-idle"}, dir.path),
      {"template 'session'", "step 0 is of kind 'image'", "'storage'"});
  SqlDb db(dir / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") == 5);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase NOT IN (0, 2)") == 0);  // nothing ran
  CHECK(db.count("SELECT count(*) FROM execution") == 0);
}

TEST_CASE("live bad input: database URLs, an uninitialised database, unknown sessions") {
  TempDir dir;
  const std::string sc = source("scenarios/mm4.json");
  bad(run_stepq({"live", "status", "--db", "nosuchscheme:x"}, dir.path), {"--db nosuchscheme:x", "sqlite:PATH"});
  bad(run_stepq({"live", "status", "--db", "postgresql://localhost/steps"}, dir.path), {"--db postgresql://", "PostgreSQL"});
  bad(run_stepq({"live", "submit", sc, "--sessions", "1", "--db", "sqlite:missing.db"}, dir.path),
      {"missing.db", "stepq live init"});
  CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));  // no empty file left behind
  SqlDb(dir / "empty.db").exec("CREATE TABLE unrelated (x)");
  bad(run_stepq({"live", "submit", sc, "--sessions", "1", "--db", "sqlite:empty.db"}, dir.path),
      {"empty.db", "no stepq schema", "stepq live init"});

  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "2"}, dir.path).status == 0);
  bad(run_stepq({"live", "cancel", "7"}, dir.path), {"no session 7"});
  const Result ok = run_stepq({"live", "cancel", "1"}, dir.path);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.out, Catch::Contains("CANCELLED"));
  const Result again = run_stepq({"live", "cancel", "1"}, dir.path);
  CHECK(again.status == 1);
  CHECK_THAT(again.err, Catch::Contains("already CANCELLED"));
  SqlDb db(dir / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM step WHERE session = 1 AND phase = 6") == 1);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") == 1);
}
