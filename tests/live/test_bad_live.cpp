// Bad input to `stepq live`: a clear message naming the file or argument and saying what to do,
// exit status 2, never a crash, and the sessions already in the database untouched.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

// Exit 2 (not a crash, not a failed run) and a message with each of `says`.
void bad(const Result& r, const std::vector<std::string>& says) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::StartsWith("error: "));
  for (const auto& s : says) CHECK_THAT(r.err, Catch::Contains(s));
}

// Two steps of two kinds, `l` after `f`. Each variant below changes one thing of it.
const std::string kBase = R"({"name": "base", "seed": 3, "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"fetch": {"threads": 1, "service_s": 1}, "launch": {"threads": 1, "service_s": 1}},
  "templates": [{"name": "t", "steps": [{"id": "f", "kind": "fetch"}, {"id": "l", "kind": "launch", "after": ["f"]}]}]})";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}

// Everything a refused command must leave as it was.
std::string snapshot(SqlDb& db) {
  std::string s;
  for (const char* q : {"SELECT * FROM session ORDER BY id", "SELECT * FROM step ORDER BY id",
                        "SELECT * FROM step_next ORDER BY step, next", "SELECT * FROM kind ORDER BY id",
                        "SELECT * FROM template ORDER BY id", "SELECT * FROM processor", "SELECT * FROM execution",
                        "PRAGMA user_version"}) {
    s += std::string(q) + "\n";
    for (const auto& row : db.rows(q)) {
      for (const auto& c : row) s += c + "|";
      s += "\n";
    }
  }
  return s;
}

}  // namespace

TEST_CASE("live bad input: a file of random bytes as --db is refused by every command, and left as it was") {
  TempDir dir;
  {
    std::ofstream f(dir / "junk.db", std::ios::binary);
    std::mt19937 g(1);
    for (int i = 0; i < 8192; ++i) f.put(static_cast<char>(g()));
    // A second file that starts like an SQLite database and is garbage after the header.
    std::ofstream h(dir / "header.db", std::ios::binary);
    h.write("SQLite format 3", 16);
    for (int i = 0; i < 8192; ++i) h.put(static_cast<char>(g()));
  }
  const std::string sc = write(dir, "base.json", kBase);
  for (const std::string file : {"junk.db", "header.db"}) {
    const std::string before = Proc::slurp(dir / file);
    const std::string db = "sqlite:" + file;
    for (const auto& args : std::vector<std::vector<std::string>>{{"live", "status", "--db", db},
                                                                  {"live", "submit", "--db", db, sc, "--sessions", "1"},
                                                                  {"live", "run", "--db", db, sc, "--until-idle"},
                                                                  {"live", "init", "--db", db},
                                                                  {"live", "cancel", "--db", db, "1"}}) {
      INFO(args[1] << " on " << file);
      // Names the file and says what it is and what to do about it.
      bad(run_stepq(args, dir.path),
          {file, "not a usable SQLite database", "restore it from a backup", "stepq live init --db sqlite:"});
    }
    CHECK(Proc::slurp(dir / file) == before);
    CHECK_FALSE(std::filesystem::exists(dir / (file + "-wal")));
  }
}

TEST_CASE("live bad input: a database of a newer schema is refused by every command, not migrated down") {
  TempDir dir;
  const std::string sc = write(dir, "base.json", kBase);
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "3"}, dir.path).status == 0);
  SqlDb db(dir / "stepq.db");
  db.exec("PRAGMA user_version = 99");
  const std::string before = snapshot(db);
  bad(run_stepq({"live", "init"}, dir.path),
      {"stepq.db", "schema version 99", "newer than this stepq", "use a newer stepq"});
  for (const auto& args : std::vector<std::vector<std::string>>{{"live", "status"},
                                                                {"live", "run", sc, "--until-idle"},
                                                                {"live", "submit", sc, "--sessions", "1"},
                                                                {"live", "cancel", "0"}}) {
    INFO(args[1]);
    bad(run_stepq(args, dir.path), {"stepq.db", "schema version 99", "use a newer stepq"});
  }
  CHECK(snapshot(db) == before);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") == 3);
}

TEST_CASE(
    "live bad input: a scenario that does not match the submitted sessions is refused, and they stay as they were") {
  TempDir dir;
  const std::string base = write(dir, "base.json", kBase);
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", base, "--sessions", "5"}, dir.path).status == 0);
  SqlDb db(dir / "stepq.db");
  const std::string before = snapshot(db);
  const std::string what_to_do = "run with the scenario they were submitted from, or cancel them";

  struct Variant {
    const char* name;
    std::string text;
    std::vector<std::string> says;
  };
  const std::vector<Variant> variants = {
      {"renamed-kinds",  // kind names differ: fetch is now image.pull
       replaced(replaced(kBase, R"("fetch": {)", R"("image.pull": {)"), R"("kind": "fetch")",
                R"("kind": "image.pull")"),
       {"step 0 is of kind 'fetch'", "that step is of kind 'image.pull'"}},
      {"swapped-kinds",  // the same kinds, the template's steps in the other order
       replaced(kBase, R"([{"id": "f", "kind": "fetch"}, {"id": "l", "kind": "launch", "after": ["f"]}])",
                R"([{"id": "l", "kind": "launch"}, {"id": "f", "kind": "fetch", "after": ["l"]}])"),
       {"step 0 is of kind 'fetch'", "that step is of kind 'launch'"}},
      {"extra-step",
       replaced(kBase, R"("after": ["f"]})", R"("after": ["f"]}, {"id": "p", "kind": "launch", "after": ["l"]})"),
       {"with 2 steps", "it has 3"}},
      {"fewer-steps",
       replaced(kBase, R"(, {"id": "l", "kind": "launch", "after": ["f"]})", ""),
       {"step 1 is of kind 'launch'", "does not exist"}},
      {"other-dependencies",  // the same steps of the same kinds, but l no longer waits for f
       replaced(kBase, R"(, "after": ["f"]})", "}"),
       {"dependencies", "step 1 ('l') runs after step 0 ('f')"}},
      {"renamed-template",
       replaced(kBase, R"("name": "t")", R"("name": "notebook")"),
       {"template 't'", "does not define"}},
  };
  for (const auto& v : variants) {
    const std::string file = write(dir, std::string(v.name) + ".json", v.text);
    INFO("variant " << v.name);
    REQUIRE(run_stepq({"validate", file}, dir.path).status == 0);  // a good scenario, just not theirs
    auto says = v.says;
    says.insert(says.end(), {file, "unfinished sessions (e.g. session 0)", what_to_do});
    bad(run_stepq({"live", "run", file, "--until-idle", "--time-scale", "0.001"}, dir.path), says);
    CHECK(snapshot(db) == before);
  }
  // Nothing ran, nothing was lost: with their own scenario they all complete.
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") == 5);
  const Result ok = run_stepq({"live", "run", base, "--until-idle", "--time-scale", "0.001"}, dir.path, 60);
  INFO(ok.err);
  CHECK(ok.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 5);

  // The other way round: sessions without the dependency, a scenario with it.
  const std::string unordered = write(dir, "free.json", replaced(kBase, R"(, "after": ["f"]})", "}"));
  REQUIRE(run_stepq({"live", "submit", unordered, "--sessions", "2"}, dir.path).status == 0);
  const std::string submitted = snapshot(db);
  bad(run_stepq({"live", "run", base, "--until-idle", "--time-scale", "0.001"}, dir.path),
      {"unfinished sessions (e.g. session 5)", "step 1 ('l') does not run after step 0 ('f')", "base.json it does",
       what_to_do});
  CHECK(snapshot(db) == submitted);
}

TEST_CASE("live bad input: --db URLs that are not SQLite files, and a database never initialised") {
  TempDir dir;
  const std::string sc = write(dir, "base.json", kBase);
  for (const std::string cmd : {"status", "submit", "run"}) {
    INFO("live " << cmd);
    auto with = [&](const std::string& url) {
      std::vector<std::string> a = {"live", cmd, "--db", url};
      if (cmd == "submit") a.insert(a.end(), {sc, "--sessions", "1"});
      if (cmd == "run") a.insert(a.end(), {sc, "--until-idle"});
      return run_stepq(a, dir.path);
    };
    // A PostgreSQL server that is not there (port 1): the URL, and what to check.
    bad(with("postgresql://127.0.0.1:1/steps"),
        {"postgresql://127.0.0.1:1/steps: cannot connect", "is the server running, and is the URL right?"});
    bad(with("postgres://u@127.0.0.1:1/db"), {"postgres://u@127.0.0.1:1/db: cannot connect"});
    bad(with("nosuchscheme:x"), {"--db nosuchscheme:x", "expected sqlite:PATH", "or postgresql://"});
    bad(with("sqlite:"), {"--db sqlite:", "no file name", "sqlite:PATH"});
    // A file that does not exist: only `live init` creates one.
    bad(with("sqlite:missing.db"), {"missing.db", "stepq live init --db sqlite:missing.db"});
    CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
  }
  bad(run_stepq({"live", "cancel", "--db", "sqlite:missing.db", "0"}, dir.path), {"missing.db", "stepq live init"});
  CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
  // An SQLite file, but not a stepq one.
  SqlDb(dir / "other.db").exec("CREATE TABLE unrelated (x)");
  for (const std::string cmd : {"status", "submit", "run"}) {
    std::vector<std::string> a = {"live", cmd, "--db", "sqlite:other.db"};
    if (cmd == "submit") a.insert(a.end(), {sc, "--sessions", "1"});
    if (cmd == "run") a.insert(a.end(), {sc, "--until-idle"});
    INFO("live " << cmd);
    bad(run_stepq(a, dir.path), {"other.db", "no stepq schema", "stepq live init --db sqlite:other.db"});
  }
  CHECK(SqlDb(dir / "other.db").count("SELECT count(*) FROM sqlite_master") == 1);  // still only its own table
}

TEST_CASE("live bad input: cancel of an unknown session, cancel of an ACTIVE one, cancel twice") {
  TempDir dir;
  const std::string sc = write(dir, "base.json", kBase);
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "2"}, dir.path).status == 0);  // sessions 0 and 1
  SqlDb db(dir / "stepq.db");
  const std::string before = snapshot(db);
  bad(run_stepq({"live", "cancel", "7"}, dir.path), {"no session 7", "stepq live status"});
  CHECK(snapshot(db) == before);

  // Session 1: f READY, l DORMANT; both unfinished, both CANCELLED.
  const Result ok = run_stepq({"live", "cancel", "1"}, dir.path);
  INFO(ok.err);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.out, Catch::Contains("session 1 CANCELLED") && Catch::Contains("2 unfinished steps"));
  CHECK(db.rows("SELECT phase, coalesce(reason, ''), finished_at IS NOT NULL FROM session WHERE id = 1").at(0) ==
        std::vector<std::string>{"CANCELLED", "cancelled by an operator", "1"});
  CHECK(db.count("SELECT count(*) FROM step WHERE session = 1 AND phase = 6 AND finished_at IS NOT NULL") == 2);
  // Session 0 untouched.
  CHECK(db.rows("SELECT phase FROM session WHERE id = 0").at(0).at(0) == "ACTIVE");
  CHECK(db.rows("SELECT group_concat(phase, ',') FROM (SELECT phase FROM step WHERE session = 0 ORDER BY num)")
            .at(0)
            .at(0) == "2,0");

  const std::string cancelled = snapshot(db);
  const Result again = run_stepq({"live", "cancel", "1"}, dir.path);
  CHECK(again.status == 1);  // DESIGN §9: exit 1 when it had already finished
  CHECK_THAT(again.err, Catch::Contains("session 1 is already CANCELLED"));
  CHECK(snapshot(db) == cancelled);

  // A run finishes session 0 and leaves the cancelled one alone; a finished session cannot be cancelled.
  REQUIRE(run_stepq({"live", "run", sc, "--until-idle", "--time-scale", "0.001"}, dir.path, 60).status == 0);
  CHECK(db.rows("SELECT group_concat(phase, ',') FROM (SELECT phase FROM session ORDER BY id)").at(0).at(0) ==
        "COMPLETED,CANCELLED");
  CHECK(db.count("SELECT count(*) FROM execution e JOIN step t ON t.id = e.step WHERE t.session = 1") == 0);
  const Result done = run_stepq({"live", "cancel", "0"}, dir.path);
  CHECK(done.status == 1);
  CHECK_THAT(done.err, Catch::Contains("session 0 is already COMPLETED"));
  CHECK(db.rows("SELECT phase FROM session WHERE id = 0").at(0).at(0) == "COMPLETED");
}

TEST_CASE("live bad input: rules and counts on a real adapter are refused before anything runs") {
  TempDir dir;
  const std::string db = "sqlite:" + (dir / "q.db");
  // The emulated platform keeps a rule's transfer in the database (live_links.hpp); a real
  // adapter stages its own way and would take the rule for a synchronous copy.
  const std::string ruled = write(dir, "ruled.json", R"({"name": "ruled", "sessions": 2,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["se", "site"], "links": [{"name": "wan", "from": "se", "to": "site", "bandwidth_MBps": 100}]},
    "kinds": {"stage": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se", "to": "site"},
                        "rule": {"delay_s": 1}},
              "ready": {"op": "poll", "threads": 1, "service_s": 0, "poll": {"interval_s": 1, "watch": "rules"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "stage", "bytes": 1e6, "local": {"url": "file:/etc/hostname"}},
                                          {"id": "r", "kind": "ready", "after": ["d"]}]}]})");
  bad(run_stepq({"live", "run", ruled, "--platform", "local", "--db", db, "--until-idle"}, dir.path),
      {"ruled.json: /kinds/stage/rule: asynchronous rules are modelled by the emulated platform only",
       "runs on the local adapter", "drop \"rule\""});
  // A real platform would run every copy of a count: only the modelled one skips those a session lacks.
  const std::string counted = write(dir, "counted.json", R"({"name": "counted", "sessions": 2,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"stage": {"op": "data", "threads": 1, "service_s": 0}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "stage", "count": 2,
                                           "local": {"url": "file:/etc/hostname"}}]}]})");
  bad(run_stepq({"live", "run", counted, "--platform", "local", "--db", db, "--until-idle"}, dir.path),
      {"counted.json: /templates/0: step 'd#1': \"count\" is modelled by the emulated platform only"});
  CHECK_FALSE(std::filesystem::exists(dir / "q.db"));  // refused before the database was opened
}
