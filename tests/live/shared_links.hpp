// Two `live run` processes on one database, one data thread each, each moving 100 MB from se to
// site over one 100 MB/s link at the same time. The link's state is in the database, so they
// share it: 2 s each, where either alone takes 1 s. Under FTS's max_active 1 they take turns: the
// second waits for the first's slot, then takes 1 s. Run on SQLite (test_shared_links.cpp) and
// PostgreSQL (pg/test_pg_links.cpp).
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "live/db_check.hpp"
#include "live/processes.hpp"

namespace stepq::test {

inline std::string one_link(int max_active) {
  return R"({"name": "shared", "seed": 5, "sessions": 2, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["se", "site"], "links": [{"name": "wan", "from": "se", "to": "site",
      "bandwidth_MBps": 100)" +
         (max_active ? ", \"max_active\": " + std::to_string(max_active) : std::string()) + R"(}]},
    "kinds": {"copy": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "c", "kind": "copy", "bytes": 1e8}]}]})";
}

// `db`: the --db arguments (none: the directory's stepq.db); `open`: reads that database.
template <class Db, class Open>
void two_processes_one_link(int max_active, const std::vector<std::string>& db, Open open) {
  TempDir dir;
  std::ofstream(dir / "shared.json") << one_link(max_active);
  auto with_db = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "live");
    args.insert(args.end(), db.begin(), db.end());
    return args;
  };
  REQUIRE(run_stepq(with_db({"init"}), dir.path).status == 0);
  const double scale = 0.5;  // 1 s of the scenario = 0.5 s of wall time
  std::vector<std::unique_ptr<Proc>> procs;
  for (int i = 0; i < 2; ++i)
    procs.push_back(std::make_unique<Proc>(stepq(with_db({"run", "shared.json", "--time-scale", "0.5", "--for", "4"})),
                                           dir.path, "run" + std::to_string(i)));
  Db d = open(dir);
  REQUIRE(within(10, [&] { return d.count("SELECT count(*) FROM processor WHERE stopped_at IS NULL") == 2; }));
  REQUIRE(run_stepq(with_db({"submit", "shared.json", "--sessions", "2"}), dir.path).status == 0);
  for (auto& p : procs) {
    const Result r = p->wait(30);
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  // Each process ran one of the two copies.
  REQUIRE(d.count("SELECT count(*) FROM execution WHERE outcome = 'completed'") == 2);
  CHECK(d.count("SELECT count(DISTINCT processor) FROM execution") == 2);
  REQUIRE(d.count("SELECT count(*) FROM transfer WHERE phase = 4") == 2);
  auto get = [&](const std::string& of, int nth) {  // of the nth transfer to get its slots
    return d.real("SELECT (" + of + ") / " + std::to_string(scale) +
                  " FROM transfer ORDER BY started_at, id LIMIT 1 OFFSET " + std::to_string(nth));
  };
  const double first = get("at - started_at", 0), second = get("at - started_at", 1);
  INFO("transfer times " << first << " s and " << second << " s (alone: 1 s)");
  if (max_active == 0) {
    // The second came a moment later (its process claimed after the first's): the first ran
    // alone that long, then both at half the link.
    CHECK(second == Approx(2.0).epsilon(0.03));
    CHECK(first > 1.8);
    CHECK(first <= second + 1e-6);
  } else {
    CHECK(first == Approx(1.0).epsilon(0.03));
    CHECK(second == Approx(1.0).epsilon(0.03));
    // The slot passed at the instant the first transfer's last byte arrived.
    CHECK(get("started_at", 1) == Approx(get("at", 0)).margin(1e-5));
    CHECK(get("started_at - arrived_at", 1) > 0.8);
  }
  // `live status` reports the link from the same rows, in scenario seconds.
  REQUIRE(run_stepq(with_db({"status", "--time-scale", "0.5", "--json", dir / "status.json", "--quiet"}), dir.path)
              .status == 0);
  const auto status = nlohmann::json::parse(Proc::slurp(dir / "status.json"));
  const auto& wan = status["links"]["wan"];
  CHECK(wan["transfers"] == 2);
  CHECK(wan["MB"].get<double>() == Approx(200));
  CHECK(wan["moving"] == 0);
  CHECK(wan["transfer_s"]["mean"].get<double>() == Approx((first + second) / 2).epsilon(1e-3));
  CHECK(wan["slot_wait_s"]["mean"].get<double>() ==
        Approx((get("started_at - arrived_at", 0) + get("started_at - arrived_at", 1)) / 2).margin(1e-3));
  // The step held its thread for its transfer: its execution took as long (plus the engine's
  // own few milliseconds).
  const double longest = d.real("SELECT max(ended_at - started_at) / " + std::to_string(scale) + " FROM execution");
  CHECK(longest >= std::max(second, get("at - arrived_at", 1)) - 1e-3);
  CHECK(longest < std::max(second, get("at - arrived_at", 1)) + 0.1);
}

}  // namespace stepq::test
