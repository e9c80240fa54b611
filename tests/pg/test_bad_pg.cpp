// Bad input on PostgreSQL: every case exits 2 with a message that names the database and says
// what to do, and never prints a password.
#include <catch2/catch.hpp>

#include "live/processes.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

namespace {

Result live(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "live");
  return run_stepq(args, dir.path, 60);
}

}  // namespace

TEST_CASE("postgres bad input: unreachable server, malformed URL, missing database, no schema, newer schema") {
  TempDir dir;
  SECTION("nothing listens on the port: exit 2, the URL without its password, a hint") {
    const Result r = live(dir, {"status", "--db", "postgresql://stepq:secret-pw@127.0.0.1:1/stepq"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("postgresql://stepq@127.0.0.1:1/stepq: cannot connect"));
    CHECK_THAT(r.err, Catch::Contains("is the server running"));
    CHECK_THAT(r.err, !Catch::Contains("secret-pw"));
  }
  SECTION("a URL libpq cannot parse") {
    const Result r = live(dir, {"status", "--db", "postgresql://stepq@[::1/stepq"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("--db postgresql://stepq@[::1/stepq"));
  }
  SECTION("a database that does not exist: `live init` creates it, the others say to") {
    const std::string url = fresh_pg_url("bad");
    const Result r = live(dir, {"status", "--db", url});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("does not exist"));
    CHECK_THAT(r.err, Catch::Contains("stepq live init --db " + url));
    CHECK(live(dir, {"init", "--db", url}).status == 0);
    CHECK(live(dir, {"status", "--db", url}).status == 0);
  }
  SECTION("a database without the schema, and one with a newer schema") {
    const std::string url = fresh_pg_url("bad");
    REQUIRE(live(dir, {"init", "--db", url}).status == 0);
    PgDb db(url);
    db.exec("DROP TABLE stepq_meta");
    Result r = live(dir, {"run", source("tests/pg/distributed.json"), "--db", url, "--for", "1"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("no stepq schema"));
    db.exec("CREATE TABLE stepq_meta (version int NOT NULL); INSERT INTO stepq_meta VALUES (99)");
    r = live(dir, {"init", "--db", url});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("schema version 99, newer than this stepq understands"));
    r = live(dir, {"submit", source("tests/pg/distributed.json"), "--db", url, "--sessions", "1"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("newer"));
  }
}

TEST_CASE("postgres: a migration the server rejects is reported with the server's words, not a crash") {
  // A database whose recorded version says 1 while its tables are already the current ones:
  // migrating again fails on the server (the columns exist). Seen as an abort (status 134).
  TempDir dir;
  const std::string url = fresh_pg_url("remigrate");
  REQUIRE(live(dir, {"init", "--db", url}).status == 0);
  PgDb(url).exec("UPDATE stepq_meta SET version = 1");
  const Result r = live(dir, {"init", "--db", url});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("error: stepq live init") && Catch::Contains("already exists"));
}
