// A randomized model check of the live queue (issue 19, item 5). Three agent processes
// (tests/model/agent.cpp), each a LiveStore on the database under test, take random operations —
// submit, claim, finish with each outcome, cancel, promote, heartbeat, reap, graceful stop, kill -9
// (between operations and in the middle of a claim or a finish) and, on PostgreSQL, a server
// restart. After every operation the database is compared with a reference model of the phase
// machine written here from DESIGN §2, independently of the stores: each step's phase and attempt,
// each session's phase, and each step's execution log (which fences ran, which are open, how each
// ended). A failing sequence is shrunk (delta debugging) to a minimal one that still fails.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stepq::test::model {

// Pools `front` (kinds a, b) and `back` (c); a session is x (a), y (b) and z (c, after x and y).
// max_attempts 2, 3 and 1: the reaper retries some orphans and fails others.
inline constexpr const char* kScenario = R"({
  "name": "model", "seed": 1, "sessions": 1,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "dispatch": {"mode": "notify", "claim_s": 0},
  "pools": {"front": {"threads": 1, "kinds": ["a", "b"]}, "back": {"threads": 1, "kinds": ["c"]}},
  "kinds": {
    "a": {"service_s": {"dist": "constant", "value": 1}, "retry": {"max_attempts": 2}},
    "b": {"service_s": {"dist": "constant", "value": 1}, "retry": {"max_attempts": 3}},
    "c": {"service_s": {"dist": "constant", "value": 1}}
  },
  "templates": [{"name": "t", "steps": [
    {"id": "x", "kind": "a"}, {"id": "y", "kind": "b"}, {"id": "z", "kind": "c", "after": ["x", "y"]}]}]
})";

struct Op {
  // pause: the agent is stopped (SIGSTOP), as a stalled process would be, and does nothing until
  // a reap has declared it dead while it held steps; the next operation it is given wakes it, a
  // zombie whose late finishes must be refused (its heartbeat, first, finds it was declared dead
  // and registers it again).
  enum class Type {
    submit,
    claim,
    finish,
    cancel,
    promote,
    heartbeat,
    reap,
    stop,
    kill,
    kill_in_flight,
    restart,
    pause
  };
  Type type = Type::submit;
  int agent = 0;           // which of the three agents does it
  std::uint32_t pick = 0;  // which pool, held step or session: modulo what there is when it runs
  int outcome = 0;         // finish: completed, failed, retry, requeue; kill_in_flight: 0 a claim, 1 a finish
  std::string str() const;
};

// `n` operations drawn from `seed`; restarts only where the database can restart.
std::vector<Op> generate(std::uint64_t seed, int n, bool restarts);

// A database for one run, initialised (`live init`): what agents open, and a reader of it.
struct Database {
  std::string url;
  std::function<std::vector<std::vector<std::string>>(const std::string& sql)> rows;
  // A server outlives its clients: a killed agent's last statement may still commit after the
  // kill. `named(name)` is the URL whose connections carry `name`; `settle(name)` returns once no
  // connection of that name is left, so that what a killed agent did is all there. (SQLite: none.)
  std::function<std::string(const std::string& name)> named;
  std::function<void(const std::string& name)> settle;
};

struct Target {
  std::function<Database()> fresh;  // a new database per run: shrinking replays on new ones
  std::function<void()> restart;    // restarts the server; empty where there is none
  bool planted = false;             // the model believes a requeue counts an attempt (to test shrinking)
};

struct Failure {
  std::size_t op = 0;  // index of the operation after which the database differed
  std::string what;
  // By operation up to `op`: whether it changed anything (an empty claim, a finish with nothing
  // held or a reap that found no one did not), so the shrinker can drop the rest at once.
  std::vector<bool> effective;
};

// What a run exercised, so that a test can show it was not vacuous.
struct Coverage {
  int claimed = 0, empty_claims = 0, finished[4] = {}, lost_finishes = 0, cancelled = 0, promoted = 0;
  int reaped = 0, released = 0, kills = 0, zombies = 0, in_doubt_committed = 0, in_doubt_not = 0, restarts = 0;
  int sessions = 0, completed = 0;
  std::string str() const;
};

// Runs `ops` on a fresh database; the first difference from the model, if any. A reap takes the
// processors silent for longer than its lease at that moment, so which it takes depends on how
// long the operations before it took; with `patient_reaps` each reap first waits until every
// dead or paused processor is past the lease, so that a sequence means the same however it is cut
// (shrinking runs so).
std::optional<Failure> run(const Target& t, const std::vector<Op>& ops, Coverage* coverage = nullptr,
                           bool patient_reaps = false);

// A smallest subsequence of `ops` that still fails, within `budget_runs` replays: first without
// the operations that changed nothing, then by delta debugging (ddmin).
std::vector<Op> shrink(const Target& t, std::vector<Op> ops, int budget_runs);

// A sequence, one operation a line, for a failure's report.
std::string describe(const std::vector<Op>& ops);

}  // namespace stepq::test::model
