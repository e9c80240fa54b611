// Terminal output: a progress line only on a terminal, colours only on a terminal and never with
// NO_COLOR, and no line wider than 100 columns. A pseudo-terminal comes from script(1).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "report_helpers.hpp"

using namespace stepq::test;

namespace {

// Runs a shell command line on a pseudo-terminal (script -qfc), in `dir`; returns what appeared
// on the terminal. The command's stdout is sent to out.txt in `dir`, so only stderr is on the terminal
// unless `keep_stdout`.
Result on_terminal(const TempDir& d, const std::string& cmd, bool keep_stdout = false) {
  const std::string line = cmd + (keep_stdout ? "" : " > out.txt");
  return run_program({"/usr/bin/script", "-qfc", line, "/dev/null"}, d.path);
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// Columns a line takes: UTF-8 code points (continuation bytes do not count).
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

void fits_100(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO(what << ": " << line);
    CHECK(columns(line) <= 100);
  }
}

}  // namespace

TEST_CASE("terminal: a progress line on a terminal, none when stderr is a file or with --quiet", "[terminal]") {
  TempDir d;
  const std::string sim = q(STEPQ_BINARY) + " simulate " + q(source("scenarios/mm4.json")) + " --sessions 200000";
  auto tty = on_terminal(d, sim);
  REQUIRE(tty.status == 0);
  CHECK(tty.out.find("simulating") != std::string::npos);
  CHECK(tty.out.find("%") != std::string::npos);
  CHECK(tty.out.find("/s") != std::string::npos);
  CHECK(tty.out.find("ETA") != std::string::npos);
  CHECK(slurp(d / "out.txt").find("simulating") == std::string::npos);  // stderr only

  auto file = run_stepq({"simulate", source("scenarios/mm4.json"), "--sessions", "200000"}, d.path);
  REQUIRE(file.status == 0);
  CHECK(file.err.empty());

  auto quiet = on_terminal(d, sim + " --quiet");
  REQUIRE(quiet.status == 0);
  CHECK(quiet.out.find("simulating") == std::string::npos);
}

TEST_CASE("terminal: progress of replications counts runs", "[terminal]") {
  TempDir d;
  {
    auto reps = on_terminal(
        d, q(STEPQ_BINARY) + " simulate " + q(source("scenarios/mm4.json")) + " --sessions 20000 -r 4 -j 2");
    REQUIRE(reps.status == 0);
    CHECK(reps.out.find("replications") != std::string::npos);
    CHECK(reps.out.find("/4 done") != std::string::npos);
  }
}

TEST_CASE("terminal: progress of tune counts configurations, and its verification shows an ETA", "[terminal]") {
  TempDir d;
  {
    auto t = on_terminal(d, q(STEPQ_BINARY) + " tune " + q(source("scenarios/mm4.json")) +
                                " --target wait.p95=1 --sessions 20000 --replications 2 --verify-replications 4");
    REQUIRE(t.status == 0);
    CHECK(t.out.find("configurations simulated") != std::string::npos);
    CHECK(t.out.find("ETA") != std::string::npos);
  }
}

TEST_CASE("terminal: progress of live submit --rate on a terminal only", "[terminal]") {
  TempDir d;
  {
    REQUIRE(run_stepq({"live", "init", "--db", "sqlite:l.db", "-q"}, d.path).status == 0);
    const std::string submit = q(STEPQ_BINARY) + " live submit " + q(source("scenarios/mm4.json")) +
                               " --db sqlite:l.db --sessions 40 --rate 50";
    auto t = on_terminal(d, submit);
    REQUIRE(t.status == 0);
    CHECK(t.out.find("submitting") != std::string::npos);
    CHECK(t.out.find("ETA") != std::string::npos);
    auto f = run_stepq(
        {"live", "submit", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--sessions", "10", "--rate", "100"},
        d.path);
    REQUIRE(f.status == 0);
    CHECK(f.err.empty());
  }
}

TEST_CASE("terminal: colours on a terminal only, and never with NO_COLOR", "[terminal]") {
  TempDir d;
  const std::string sim = q(STEPQ_BINARY) + " simulate " + q(source("scenarios/skaha-basic.json")) + " --sessions 2000";
  auto tty = on_terminal(d, sim, true);
  REQUIRE(tty.status == 0);
  CHECK(tty.out.find("\x1b[1m") != std::string::npos);
  auto none = on_terminal(d, "NO_COLOR=1 " + sim, true);
  REQUIRE(none.status == 0);
  CHECK(none.out.find("Session start-up time") != std::string::npos);
  CHECK(none.out.find("\x1b[") == std::string::npos);
  // An empty NO_COLOR does not count (no-color.org).
  auto empty = on_terminal(d, "NO_COLOR= " + sim, true);
  CHECK(empty.out.find("\x1b[1m") != std::string::npos);
  auto file = run_stepq({"simulate", source("scenarios/skaha-basic.json"), "--sessions", "2000"}, d.path);
  REQUIRE(file.status == 0);
  CHECK(file.out.find("Session start-up time") != std::string::npos);
  CHECK(file.out.find("\x1b[") == std::string::npos);
}

TEST_CASE("terminal: every command's output fits 100 columns", "[terminal]") {
  TempDir d;
  const std::vector<std::vector<std::string>> commands = {
      {"simulate", source("scenarios/skaha-basic.json"), "--sessions", "2000"},
      {"simulate", source("scenarios/skaha-basic.json"), "--sessions", "2000", "-r", "2", "-j", "2"},
      {"simulate", source("scenarios/broker-today.json"), "--sessions", "300"},  // pools shared by kinds
      {"analyze", source("scenarios/skaha-basic.json")},
      {"validate", source("scenarios/skaha-basic.json")},
      {"validate", source("scenarios/srcnet-async.json")},  // links, routes, replicas, counts
      // A search of 1,000-session runs whose path adds threads and a node (the widest rows): 6 s,
      // where the default search runs of 5,000 sessions took 20 s for the same table.
      {"tune", source("scenarios/skaha-basic.json"), "--target", "p95=400", "--sessions", "1000", "--search-sessions",
       "1000", "--replications", "1", "--verify-replications", "2", "--rates", "1,1.5"},
  };
  for (const auto& c : commands) {
    auto r = run_stepq(c, d.path);
    REQUIRE(r.status == 0);
    CHECK(!r.out.empty());
    fits_100(r.out, c[0] + " " + c[1]);
  }
  // Every command's --help too (CLI11 prints descriptions as written: cli/help_format.hpp wraps).
  for (const std::vector<std::string>& c : std::vector<std::vector<std::string>>{{},
                                                                                 {"validate"},
                                                                                 {"simulate"},
                                                                                 {"analyze"},
                                                                                 {"tune"},
                                                                                 {"calibrate"},
                                                                                 {"forecast"},
                                                                                 {"live"},
                                                                                 {"live", "init"},
                                                                                 {"live", "submit"},
                                                                                 {"live", "run"},
                                                                                 {"live", "status"},
                                                                                 {"live", "cancel"}}) {
    std::vector<std::string> args = c;
    args.push_back("--help");
    auto r = run_stepq(args, d.path);
    REQUIRE(r.status == 0);
    fits_100(r.out, "stepq " + (c.empty() ? std::string() : c[0] + (c.size() > 1 ? " " + c[1] : "")) + " --help");
  }
  REQUIRE(run_stepq({"live", "init", "--db", "sqlite:l.db", "-q"}, d.path).status == 0);
  REQUIRE(run_stepq(
              {"live", "submit", source("scenarios/skaha-basic.json"), "--db", "sqlite:l.db", "--sessions", "5", "-q"},
              d.path)
              .status == 0);
  REQUIRE(run_stepq({"live", "run", source("scenarios/skaha-basic.json"), "--db", "sqlite:l.db", "--time-scale",
                     "0.0005", "--for", "1", "-q"},
                    d.path)
              .status == 0);
  auto st = run_stepq({"live", "status", "--db", "sqlite:l.db"}, d.path);
  REQUIRE(st.status == 0);
  CHECK(st.out.find("Steps by phase") != std::string::npos);
  fits_100(st.out, "live status");
}
