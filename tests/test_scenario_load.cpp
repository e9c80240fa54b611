// Scenario loading: every field on the good path, and the one-line error contract on the bad one.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "cli/scenario_file.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;

namespace {

const char* kMinimal = R"({
  "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 2},
  "kinds": {"work": {"threads": 3, "service_s": 1.5}},
  "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]
})";

Scenario load(const std::string& text, const std::vector<Override>& ov = {}, const FileReader& reader = {}) {
  return parse_scenario(text, "dir/t.json", ov, reader);
}

// The message of the ScenarioError that loading throws, or "no error".
std::string error_of(const std::string& text, const std::vector<Override>& ov = {}, const FileReader& reader = {}) {
  try {
    load(text, ov, reader);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "no error";
}

// A reader over in-memory files, counting what it was asked for.
struct FakeFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> asked;
  FileReader reader() {
    return [this](const std::string& name) {
      asked.push_back(name);
      auto it = files.find(name);
      if (it == files.end()) throw ScenarioError("cannot read " + name + ": No such file or directory");
      return it->second;
    };
  }
};

std::string trace_scenario(const std::string& file) {
  return R"({"sessions": 10, "arrivals": {"process": "trace", "file": ")" + file + R"("},
    "kinds": {"work": {"threads": 1, "service_s": 1}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";
}

}  // namespace

TEST_CASE("a minimal scenario gets the documented defaults", "[scenario]") {
  const Scenario sc = load(kMinimal);
  CHECK(sc.name == "t");  // the file name's stem
  CHECK(sc.file == "dir/t.json");
  CHECK(sc.seed == 1);
  REQUIRE(sc.sessions);
  CHECK(*sc.sessions == 10);
  CHECK_FALSE(sc.duration_s);
  CHECK(sc.arrivals.process == ArrivalSpec::Process::poisson);
  CHECK(sc.arrivals.rate_per_s == 2);
  CHECK(sc.dispatch.mode == DispatchSpec::Mode::notify);
  CHECK(sc.dispatch.poll_interval_s == 1);
  CHECK(sc.dispatch.claim_s == 0);
  CHECK(sc.dispatch.dependencies == DispatchSpec::Dependencies::activate);
  CHECK(sc.dispatch.recheck_s == 5);
  REQUIRE(sc.kinds.size() == 1);
  const KindSpec& k = sc.kinds[0];
  CHECK(k.name == "work");
  CHECK(k.op == Op::work);
  CHECK(k.service_s.type() == Dist::Type::constant);
  CHECK(k.service_s.mean() == 1.5);
  CHECK(k.retry.max_attempts == 1);
  CHECK(k.retry.failure_probability == 0);
  CHECK(k.retry.backoff_s == 0);
  CHECK(k.retry.backoff_factor == 2);
  CHECK_FALSE(k.poll);
  CHECK_FALSE(k.transfer);
  CHECK_FALSE(k.prepare_cost_s);
  REQUIRE(sc.pools.size() == 1);
  CHECK(sc.pools[0].name == "work");
  CHECK(sc.pools[0].threads == 3);
  CHECK(sc.pools[0].kinds == std::vector<int>{0});
  CHECK(k.pool == 0);
  REQUIRE(sc.templates.size() == 1);
  CHECK(sc.templates[0].weight == 1);
  CHECK(sc.platform.hosts.empty());
  CHECK(sc.platform.links.empty());
}

TEST_CASE("top-level fields, arrivals and dispatch are read", "[scenario]") {
  const Scenario sc = load(R"({
    "name": "mm4", "seed": 18446744073709551615, "duration_s": 3600.5,
    "arrivals": {"process": "periodic", "rate_per_s": 0.25},
    "dispatch": {"mode": "poll", "poll_interval_s": 2.5, "claim_s": 0.004, "dependencies": "recheck", "recheck_s": 7},
    "kinds": {"work": {"threads": 1, "service_s": 1}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]
  })");
  CHECK(sc.name == "mm4");
  CHECK(sc.seed == 18446744073709551615ULL);
  CHECK_FALSE(sc.sessions);
  REQUIRE(sc.duration_s);
  CHECK(*sc.duration_s == 3600.5);
  CHECK(sc.arrivals.process == ArrivalSpec::Process::periodic);
  CHECK(sc.arrivals.rate_per_s == 0.25);
  CHECK(sc.dispatch.mode == DispatchSpec::Mode::poll);
  CHECK(sc.dispatch.poll_interval_s == 2.5);
  CHECK(sc.dispatch.claim_s == 0.004);
  CHECK(sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck);
  CHECK(sc.dispatch.recheck_s == 7);
}

TEST_CASE("a partial dispatch or retry object keeps the other defaults", "[scenario]") {
  const Scenario sc =
      load(kMinimal, {{"/dispatch", R"({"mode": "poll"})"}, {"/kinds/work/retry", R"({"backoff_s": 3})"}});
  CHECK(sc.dispatch.mode == DispatchSpec::Mode::poll);
  CHECK(sc.dispatch.poll_interval_s == 1);
  CHECK(sc.dispatch.claim_s == 0);
  CHECK(sc.dispatch.dependencies == DispatchSpec::Dependencies::activate);
  CHECK(sc.dispatch.recheck_s == 5);
  CHECK(sc.kinds[0].retry.backoff_s == 3);
  CHECK(sc.kinds[0].retry.max_attempts == 1);
  CHECK(sc.kinds[0].retry.failure_probability == 0);
  CHECK(sc.kinds[0].retry.backoff_factor == 2);
}

TEST_CASE("integers must be integral, integral-valued floats are accepted", "[scenario]") {
  CHECK(*load(kMinimal, {{"/sessions", "2e5"}}).sessions == 200000);
  CHECK(load(kMinimal, {{"/kinds/work/threads", "4.0"}}).pools[0].threads == 4);
  CHECK(load(kMinimal, {{"/seed", "0"}}).seed == 0);
  CHECK(error_of(kMinimal, {{"/sessions", "2.5"}}) == "dir/t.json: /sessions: must be a positive integer (got 2.5)");
  CHECK(error_of(kMinimal, {{"/sessions", "0"}}) == "dir/t.json: /sessions: must be a positive integer (got 0)");
  CHECK(error_of(kMinimal, {{"/seed", "-1"}}) == "dir/t.json: /seed: must be a non-negative integer (got -1)");
  CHECK(error_of(kMinimal, {{"/kinds/work/threads", "true"}}) ==
        "dir/t.json: /kinds/work/threads: must be a positive integer (got true)");
  CHECK(error_of(kMinimal, {{"/kinds/work/threads", "3000000000"}}) ==
        "dir/t.json: /kinds/work/threads: must be a positive integer (got 3000000000)");
}

TEST_CASE("exactly one of sessions and duration_s", "[scenario]") {
  const std::string neither = R"({"arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"w": {"threads": 1, "service_s": 1}}, "templates": [{"name": "t", "steps": [{"id": "w", "kind": "w"}]}]})";
  CHECK_THAT(error_of(neither), Catch::StartsWith("dir/t.json: /sessions: give \"sessions\""));
  CHECK(error_of(kMinimal, {{"/duration_s", "60"}}) ==
        "dir/t.json: /sessions: give either \"sessions\" or \"duration_s\", not both (got both)");
}

TEST_CASE("every distribution is read, as a bare number or an object", "[scenario][dist]") {
  const Scenario sc = load(R"({
    "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {
      "bare":        {"threads": 1, "service_s": 2.5},
      "constant":    {"threads": 1, "service_s": {"dist": "constant", "value": 3}},
      "exponential": {"threads": 1, "service_s": {"dist": "exponential", "mean": 2}},
      "uniform":     {"threads": 1, "service_s": {"dist": "uniform", "min": 1, "max": 5}},
      "ln_p95":      {"threads": 1, "service_s": {"dist": "lognormal", "mean": 4, "p95": 10}},
      "ln_mu":       {"threads": 1, "service_s": {"dist": "lognormal", "mu": 0.5, "sigma": 0.8}},
      "normal":      {"threads": 1, "service_s": {"dist": "normal", "mean": 5, "sd": 0}},
      "empirical":   {"threads": 1, "service_s": {"dist": "empirical", "samples": [1, 2, 6]}},
      "mixture":     {"threads": 1, "service_s": {"dist": "mixture", "components": [
                        {"weight": 4, "dist": 0.5},
                        {"weight": 1, "dist": {"dist": "exponential", "mean": 30}}]}}
    },
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "bare"}]}]
  })");
  const auto d = [&](const char* k) { return sc.kinds.at(sc.kind_index(k)).service_s; };
  CHECK(d("bare").type() == Dist::Type::constant);
  CHECK(d("bare").mean() == 2.5);
  CHECK(d("constant").type() == Dist::Type::constant);
  CHECK(d("constant").mean() == 3);
  CHECK(d("exponential").type() == Dist::Type::exponential);
  CHECK(d("exponential").mean() == 2);
  CHECK(d("uniform").type() == Dist::Type::uniform);
  CHECK(d("uniform").mean() == 3);
  CHECK(d("ln_p95").type() == Dist::Type::lognormal);
  CHECK(d("ln_p95").mean() == Approx(4));
  CHECK(d("ln_mu").type() == Dist::Type::lognormal);
  CHECK(d("ln_mu").mean() == Approx(std::exp(0.5 + 0.32)));
  CHECK(d("normal").type() == Dist::Type::normal);
  CHECK(d("normal").mean() == 5);
  CHECK(d("empirical").type() == Dist::Type::empirical);
  CHECK(d("empirical").mean() == 3);
  CHECK(d("mixture").type() == Dist::Type::mixture);
  CHECK(d("mixture").mean() == Approx(0.8 * 0.5 + 0.2 * 30));
  // Kind order is the file's order, not alphabetical.
  CHECK(sc.kinds.front().name == "bare");
  CHECK(sc.kinds.back().name == "mixture");
}

TEST_CASE("distribution errors name the nested pointer", "[scenario][dist]") {
  const auto err = [](const std::string& dist) { return error_of(kMinimal, {{"/kinds/work/service_s", dist}}); };
  const std::string at = "dir/t.json: /kinds/work/service_s";
  CHECK(err("-1") == at + ": must be a non-negative number of seconds (got -1)");
  CHECK(err("\"fast\"") == at + ": must be a number of seconds or a distribution {\"dist\": ...} (got \"fast\")");
  CHECK_THAT(err(R"({"dist": "pareto", "mean": 1})"),
             Catch::StartsWith(at + "/dist: must be \"constant\", \"exponential\", ") &&
                 Catch::EndsWith(" or \"mixture\" (got \"pareto\")"));
  CHECK_THAT(err(R"({"mean": 1})"), Catch::StartsWith(at + "/dist: must be ") && Catch::EndsWith("(missing)"));
  CHECK(err(R"({"dist": "exponential", "mena": 1})") == at + "/mena: unknown key; did you mean 'mean'?");
  CHECK(err(R"({"dist": "exponential"})") == at + "/mean: must be a positive number (missing)");
  CHECK(err(R"({"dist": "constant", "value": -3})") == at + "/value: must be a non-negative number (got -3)");
  CHECK(err(R"({"dist": "uniform", "min": 3, "max": 1})") == at + "/max: must be a number >= min (3) (got 1)");
  CHECK(err(R"({"dist": "uniform", "min": -1, "max": 1})") == at + "/min: must be a non-negative number (got -1)");
  CHECK(err(R"({"dist": "lognormal", "mean": 2, "p95": 2})") ==
        at + "/p95: p95 must be greater than mean (got p95 2, mean 2)");
  CHECK_THAT(err(R"({"dist": "lognormal", "mean": 1, "p95": 100})"),
             Catch::StartsWith(at + "/p95: p95 can be at most 3.8") && Catch::Contains("(got p95 100, mean 1)"));
  CHECK_THAT(err(R"({"dist": "lognormal", "mean": 1, "p95": 2, "sigma": 1})"),
             Catch::StartsWith(at + "/sigma: cannot be combined"));
  CHECK_THAT(err(R"({"dist": "lognormal"})"), Catch::StartsWith(at + ": a lognormal needs"));
  CHECK(err(R"({"dist": "lognormal", "mu": 0, "sigma": 0})") == at + "/sigma: must be a positive number (got 0)");
  CHECK(err(R"({"dist": "normal", "mean": 1, "sd": -1})") == at + "/sd: must be a non-negative number (got -1)");
  CHECK(err(R"({"dist": "empirical", "samples": []})") ==
        at + "/samples: must be a non-empty array of seconds (got [])");
  CHECK(err(R"({"dist": "empirical", "samples": [1, -2]})") ==
        at + "/samples/1: must be a non-negative number (got -2)");
  CHECK(err(R"({"dist": "mixture", "components": []})") ==
        at + "/components: must be a non-empty array of {\"weight\", \"dist\"} (got [])");
  CHECK(err(R"({"dist": "mixture", "components": [{"weight": 0, "dist": 1}]})") ==
        at + "/components/0/weight: must be a positive number (got 0)");
  CHECK(
      err(R"({"dist": "mixture", "components": [{"weight": 1, "dist": {"dist": "mixture", "components": [{"weight": 1, "dist": {"dist": "normal", "mean": 1}}]}}]})") ==
      at + "/components/0/dist/components/0/dist/sd: must be a non-negative number (missing)");
}

TEST_CASE("kinds: op, retry, poll, transfer, prepare cost", "[scenario]") {
  const Scenario sc = load(R"({
    "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["rucio", "cavern"],
                 "links": [{"name": "wan", "from": "rucio", "to": "cavern", "bandwidth_MBps": 100, "latency_s": 0.5}]},
    "kinds": {
      "image.pull": {"op": "image", "threads": 2, "service_s": 10, "prepare_cost_s": 3,
                     "retry": {"max_attempts": 3, "failure_probability": 0.25, "backoff_s": 4, "backoff_factor": 1.5}},
      "data.stage": {"op": "data", "threads": 4, "service_s": 1, "transfer": {"from": "rucio", "to": "cavern"}},
      "compute.poll": {"threads": 1, "poll": {"interval_s": 5, "ready_after_s": {"dist": "exponential", "mean": 20}}},
      "copy": {"threads": 1, "service_s": 0, "transfer": {"from": "cavern", "to": "rucio"}}
    },
    "templates": [{"name": "t", "steps": [
      {"id": "exe", "kind": "image.pull"},
      {"id": "data", "kind": "data.stage", "bytes": 1e9},
      {"id": "poll", "kind": "compute.poll", "after": ["exe", "data"]}]}]
  })");
  const KindSpec& img = sc.kinds[0];
  CHECK(img.op == Op::image);
  CHECK(img.retry.max_attempts == 3);
  CHECK(img.retry.failure_probability == 0.25);
  CHECK(img.retry.backoff_s == 4);
  CHECK(img.retry.backoff_factor == 1.5);
  REQUIRE(img.prepare_cost_s);
  CHECK(*img.prepare_cost_s == 3);

  const KindSpec& data = sc.kinds[1];
  CHECK(data.op == Op::data);
  REQUIRE(data.transfer);
  CHECK(data.transfer->from == "rucio");
  CHECK(data.transfer->to == "cavern");
  REQUIRE(sc.platform.links.size() == 1);
  CHECK(sc.platform.links[0].bandwidth_Bps == 1e8);
  CHECK(sc.platform.links[0].latency_s == 0.5);
  CHECK(sc.platform.hosts == std::vector<std::string>{"rucio", "cavern"});

  const KindSpec& poll = sc.kinds[2];
  CHECK(poll.op == Op::poll);         // implied by the "poll" object
  CHECK(poll.service_s.mean() == 0);  // the status call is free unless given
  REQUIRE(poll.poll);
  CHECK(poll.poll->interval_s == 5);
  CHECK(poll.poll->ready_after_s.mean() == 20);

  CHECK(sc.kinds[3].op == Op::work);  // work kinds may transfer too
  REQUIRE(sc.kinds[3].transfer);

  const TemplateSpec& t = sc.templates[0];
  CHECK(t.steps[1].bytes == 1e9);
  // exe: its own estimate 3; data: 1 + 0.5 latency + 1e9/1e8 = 11.5; poll: 0 + ready 20.
  CHECK(sc.prepare_cost(t.steps[0]) == 3);
  CHECK(sc.prepare_cost(t.steps[1]) == Approx(11.5));
  CHECK(t.total_prepare_cost_s == Approx(31.5));
}

TEST_CASE("kind errors", "[scenario]") {
  const std::string at = "dir/t.json: /kinds/work";
  const auto err = [](const std::vector<Override>& ov) { return error_of(kMinimal, ov); };
  CHECK(err({{"/kinds/work/op", "\"compute\""}}) ==
        at + "/op: must be \"work\", \"image\", \"storage\", \"data\", \"launch\", \"poll\", \"delete\", "
             "\"cleanup\", \"pushback\" or \"extend\" (got \"compute\")");
  CHECK(err({{"/kinds/work/op", "\"poll\""}}) ==
        at + "/poll: required for op \"poll\": {\"interval_s\": ..., \"ready_after_s\": ...} or "
             "{\"interval_s\": ..., \"watch\": \"rules\"} (missing)");
  CHECK(err({{"/kinds/work/poll", R"({"interval_s": 0, "ready_after_s": 1})"}}) ==
        at + "/poll/interval_s: must be a positive number (got 0)");
  CHECK(err({{"/kinds/work/poll", R"({"interval_s": 1})"}}) ==
        at + "/poll/ready_after_s: must be a number of seconds or a distribution {\"dist\": ...} (missing)");
  CHECK(err({{"/kinds/work/op", "\"image\""}, {"/kinds/work/transfer", R"({"from": "a", "to": "b"})"}}) ==
        at + "/transfer: only allowed with op \"data\", \"pushback\" or \"work\" (this kind's op is \"image\")");
  CHECK(err({{"/kinds/work/transfer", R"({"from": "a", "to": "b"})"}}) ==
        at + "/transfer/from: unknown host 'a'; none are declared");
  CHECK(err({{"/kinds/work/threads", "-1"}}) == at + "/threads: must be a positive integer (got -1)");
  CHECK(err({{"/kinds/work/service_s", "null"}}) ==
        at + "/service_s: must be a number of seconds or a distribution {\"dist\": ...} (got null)");
  CHECK(err({{"/kinds/work/retry", R"({"backoff_factor": 0.5})"}}) ==
        at + "/retry/backoff_factor: must be a number >= 1 (got 0.5)");
  CHECK(err({{"/kinds/work/retry", R"({"max_attemps": 2})"}}) ==
        at + "/retry/max_attemps: unknown key; did you mean 'max_attempts'?");
  CHECK(err({{"/kinds/work/prepare_cost_s", "-1"}}) == at + "/prepare_cost_s: must be a non-negative number (got -1)");
  CHECK(err({{"/kinds", "{}"}}) ==
        "dir/t.json: /kinds: must be an object of step kinds, name -> {\"service_s\", ...} (got {})");
}

TEST_CASE("a missing thread count names the kind", "[scenario]") {
  const std::string no_threads = R"({"sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"work": {"service_s": 1}}, "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";
  CHECK(error_of(no_threads) == "dir/t.json: /kinds/work/threads: must be a positive integer (missing)");
}

TEST_CASE("platform errors", "[scenario]") {
  const auto err = [](const std::string& platform) { return error_of(kMinimal, {{"/platform", platform}}); };
  CHECK(err(R"({"hosts": ["a", "a"]})") == "dir/t.json: /platform/hosts/1: host 'a' is declared twice");
  CHECK(err(R"({"hosts": ["a", "b"], "links": [{"name": "l", "from": "a", "to": "c", "bandwidth_MBps": 1}]})") ==
        "dir/t.json: /platform/links/0/to: unknown host 'c'; declared: a, b");
  CHECK(err(R"({"hosts": ["a", "b"], "links": [{"name": "l", "from": "a", "to": "b", "bandwidth_MBps": 0}]})") ==
        "dir/t.json: /platform/links/0/bandwidth_MBps: must be a positive number (got 0)");
  CHECK(err(R"({"hosts": ["a", "b"], "links": [{"name": "l", "from": "a", "to": "b", "bandwidth_MBps": 1},
                                               {"name": "m", "from": "b", "to": "a", "bandwidth_MBps": 1}]})") ==
        "dir/t.json: /platform/links/1: a link between 'b' and 'a' is already declared");
  CHECK(err(R"({"hosts": ["a", "b"], "links": [{"from": "a", "to": "b", "bandwidth_MBps": 1}]})") ==
        "dir/t.json: /platform/links/0/name: must be a non-empty string (missing)");
}

TEST_CASE("pools: kinds join the pool that lists them, file order is kept", "[scenario][pools]") {
  const std::string pooled = R"({
    "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"zeta": {"service_s": 1}, "alpha": {"service_s": 1}, "mid": {"service_s": 1}},
    "pools": {"main": {"threads": 1, "kinds": ["mid", "zeta"]}, "aux": {"threads": 6, "kinds": ["alpha"]}},
    "templates": [{"name": "t", "steps": [{"id": "z", "kind": "zeta"}, {"id": "a", "kind": "alpha"}]}]
  })";
  const Scenario sc = load(pooled);
  REQUIRE(sc.kinds.size() == 3);
  CHECK(sc.kinds[0].name == "zeta");
  CHECK(sc.kinds[1].name == "alpha");
  CHECK(sc.kinds[2].name == "mid");
  REQUIRE(sc.pools.size() == 2);
  CHECK(sc.pools[0].name == "main");
  CHECK(sc.pools[0].threads == 1);
  CHECK(sc.pools[0].kinds == std::vector<int>{2, 0});
  CHECK(sc.pools[1].name == "aux");
  CHECK(sc.pools[1].threads == 6);
  CHECK(sc.kinds[0].pool == 0);
  CHECK(sc.kinds[1].pool == 1);
  CHECK(sc.kinds[2].pool == 0);
  CHECK(load(pooled, {{"/pools/main/threads", "4"}}).pools[0].threads == 4);

  CHECK(error_of(pooled, {{"/pools/aux/kinds", R"(["alpha", "alpha"])"}}) ==
        "dir/t.json: /pools/aux/kinds/1: kind 'alpha' is already in pool 'aux'; a kind belongs to exactly one pool");
  CHECK(error_of(pooled, {{"/pools/aux/kinds", R"(["alpa"])"}}) ==
        "dir/t.json: /pools/aux/kinds/0: unknown kind 'alpa'; did you mean 'alpha'?");
  CHECK(error_of(pooled, {{"/pools/aux/kinds", "[]"}}) ==
        "dir/t.json: /pools/aux/kinds: must be a non-empty array of kind names (got [])");
  CHECK(error_of(pooled, {{"/pools/aux/threads", "0"}}) ==
        "dir/t.json: /pools/aux/threads: must be a positive integer (got 0)");
  CHECK(error_of(pooled, {{"/kinds/late", R"({"service_s": 1})"}}) ==
        "dir/t.json: /kinds/late: is in no pool: list it in the \"kinds\" of one pool (pools: main, aux)");
  CHECK(error_of(pooled, {{"/kinds/mid/threads", "2"}}) ==
        "dir/t.json: /kinds/mid/threads: not allowed when \"pools\" is given: set the threads of the kind's pool (got "
        "2)");
  CHECK_THAT(error_of(pooled, {{"/pools", "{}"}}), Catch::StartsWith("dir/t.json: /pools: must be an object of pools"));
}

TEST_CASE("a template becomes a plan with its critical-path prepare cost", "[scenario][plan]") {
  // The broker's layout: executable, two storages, data in them, compute after everything.
  const Scenario sc = load(R"({
    "sessions": 1, "arrivals": {"process": "periodic", "rate_per_s": 1},
    "kinds": {"exe": {"threads": 1, "service_s": 1}, "sto": {"threads": 1, "service_s": 1},
              "dat": {"threads": 1, "service_s": 1}, "cmp": {"threads": 1, "service_s": 7}},
    "templates": [
      {"name": "small", "weight": 3, "steps": [{"id": "only", "kind": "cmp"}]},
      {"name": "broker", "weight": 0.5, "steps": [
        {"id": "cmp", "kind": "cmp", "after": ["exe", "s1", "s2", "d11", "d12", "d21"]},
        {"id": "exe", "kind": "exe", "service_s": 40},
        {"id": "s1", "kind": "sto", "service_s": 3},
        {"id": "s2", "kind": "sto", "service_s": {"dist": "exponential", "mean": 12}},
        {"id": "d11", "kind": "dat", "after": ["s1"], "service_s": 20},
        {"id": "d12", "kind": "dat", "after": ["s1"], "service_s": 35},
        {"id": "d21", "kind": "dat", "after": ["s2"], "service_s": 30}]}]
  })");
  REQUIRE(sc.templates.size() == 2);
  CHECK(sc.templates[0].name == "small");
  CHECK(sc.templates[0].weight == 3);
  CHECK(sc.templates[0].total_prepare_cost_s == 7);
  const TemplateSpec& t = sc.templates[1];
  CHECK(t.weight == 0.5);
  REQUIRE(t.steps.size() == 7);
  CHECK(t.steps[0].id == "cmp");  // "after" may name later steps
  CHECK(t.steps[0].after == std::vector<int>{1, 2, 3, 4, 5, 6});
  CHECK(t.steps[4].after == std::vector<int>{2});
  CHECK(t.steps[3].kind == 1);
  REQUIRE(t.steps[3].service_s);
  CHECK(t.steps[3].service_s->type() == Dist::Type::exponential);
  CHECK_FALSE(t.steps[0].service_s);
  CHECK(t.plan.preds[0] == std::vector<int>{1, 2, 3, 4, 5, 6});
  CHECK(t.plan.roots == std::vector<int>{1, 2, 3});
  CHECK(t.plan.succs[2] == std::vector<int>{0, 4, 5});
  // max(exe 40, s1 3 + d12 35, s2 12 + d21 30) + cmp 7 = 49: the broker's own formula.
  CHECK(t.total_prepare_cost_s == Approx(49));
}

TEST_CASE("template errors", "[scenario][plan]") {
  const std::string two = R"({"sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"work": {"threads": 1, "service_s": 1}},
    "templates": [{"name": "t", "steps": [{"id": "a", "kind": "work"}, {"id": "b", "kind": "work", "after": ["a"]}]}]})";
  const std::string at = "dir/t.json: /templates/0";
  CHECK(error_of(two, {{"/templates/0/steps/1/id", "\"a\""}}) ==
        at + "/steps/1/id: step id 'a' is used twice in this template");
  CHECK(error_of(two, {{"/templates/0/steps/1/after", R"(["a", "a"])"}}) ==
        at + "/steps/1/after/1: step 'a' is listed twice");
  CHECK(error_of(two, {{"/templates/0/steps/1/after", R"(["b"])"}}) == at + "/steps: steps form a cycle through 'b'");
  CHECK(error_of(two, {{"/templates/0/steps/1/after", "\"a\""}}) ==
        at + "/steps/1/after: must be an array of step ids (got \"a\")");
  CHECK(error_of(two, {{"/templates/0/steps/1/after/0", "\"x\""}}) ==
        at + "/steps/1/after/0: unknown step id 'x'; declared: a, b");
  CHECK(error_of(two, {{"/templates/0/steps/0/kind", "\"wrok\""}}) ==
        at + "/steps/0/kind: unknown kind 'wrok'; did you mean 'work'?");
  CHECK(error_of(two, {{"/templates/0/steps/0/kind", "\"zzzzzzzz\""}}) ==
        at + "/steps/0/kind: unknown kind 'zzzzzzzz'; declared: work");
  CHECK(error_of(two, {{"/templates/0/weight", "0"}}) == at + "/weight: must be a positive number (got 0)");
  CHECK(error_of(two, {{"/templates/0/steps", "[]"}}) ==
        at + "/steps: must be a non-empty array of steps {\"id\", \"kind\", ...} (got [])");
  CHECK(error_of(two, {{"/templates/-", R"({"name": "t", "steps": [{"id": "a", "kind": "work"}]})"}}) ==
        "dir/t.json: /templates/1/name: template 't' is declared twice");
  CHECK(error_of(two, {{"/templates", "[]"}}) ==
        "dir/t.json: /templates: must be a non-empty array of templates {\"name\", \"steps\"} (got [])");
  CHECK(error_of(two, {{"/templates/0/steps/0/bytes", "10"}}) ==
        at + "/steps/0/bytes: only for kinds with a \"transfer\" (kind 'work' has none) and storage items");
}

TEST_CASE("unknown keys are errors with a did-you-mean hint or the allowed keys", "[scenario]") {
  CHECK(error_of(kMinimal, {{"/sesions", "5"}}) == "dir/t.json: /sesions: unknown key; did you mean 'sessions'?");
  CHECK(error_of(kMinimal, {{"/kinds/work/thread", "5"}}) ==
        "dir/t.json: /kinds/work/thread: unknown key; did you mean 'threads'?");
  CHECK(error_of(kMinimal, {{"/arrivals/rate", "5"}}) ==
        "dir/t.json: /arrivals/rate: unknown key; did you mean 'rate_per_s'?");
  CHECK(error_of(kMinimal, {{"/arrivals/ratee", "5"}}) ==
        "dir/t.json: /arrivals/ratee: unknown key; allowed keys: process, rate_per_s, file, burst, users, comment");
  CHECK(error_of(kMinimal, {{"/kinds/work/poll", R"({"interval": 5, "ready_after_s": 1})"}}) ==
        "dir/t.json: /kinds/work/poll/interval: unknown key; did you mean 'interval_s'?");
  CHECK(error_of(kMinimal, {{"/templates/0/steps/0/depends_on", "[]"}}) ==
        "dir/t.json: /templates/0/steps/0/depends_on: unknown key; allowed keys: id, kind, after, service_s, bytes, "
        "local, mount, area, output_bytes, replicas, count, comment");
  CHECK(error_of(kMinimal, {{"/kinds/work/zzzzzzzzzzzz", "1"}}) ==
        "dir/t.json: /kinds/work/zzzzzzzzzzzz: unknown key; allowed keys: op, threads, service_s, retry, poll, "
        "transfer, rule, prepare_cost_s, comment");
  CHECK(error_of("[1, 2]") == "dir/t.json: must be a JSON object (got an array)");
}

TEST_CASE("arrivals errors", "[scenario]") {
  const std::string at = "dir/t.json: /arrivals";
  CHECK(error_of(kMinimal, {{"/arrivals/process", "\"posson\""}}) ==
        at + "/process: must be \"poisson\", \"periodic\" or \"trace\" (got \"posson\")");
  CHECK(error_of(kMinimal, {{"/arrivals/rate_per_s", "0"}}) == at + "/rate_per_s: must be a positive number (got 0)");
  CHECK(error_of(kMinimal, {{"/arrivals/file", "\"x.csv\""}}) == at + "/file: only used with \"process\": \"trace\"");
  CHECK(error_of(kMinimal, {{"/arrivals/process", "\"trace\""}}) ==
        at + "/rate_per_s: not used with trace arrivals: the file gives the times");
  CHECK(error_of(kMinimal, {{"/dispatch", R"({"mode": "pull"})"}}) ==
        "dir/t.json: /dispatch/mode: must be \"notify\" or \"poll\" (got \"pull\")");
  CHECK(error_of(kMinimal, {{"/dispatch", R"({"claim_s": -0.1})"}}) ==
        "dir/t.json: /dispatch/claim_s: must be a non-negative number (got -0.1)");
}

TEST_CASE("trace arrivals are read through the file reader", "[scenario][trace]") {
  FakeFiles fs;
  fs.files["arrivals.csv"] = "arrival_s\r\n0\r\n\r\n0.5\n  1.5  \n1.5\n1e1\n";
  const Scenario sc = load(trace_scenario("arrivals.csv"), {}, fs.reader());
  CHECK(fs.asked == std::vector<std::string>{"arrivals.csv"});
  CHECK(sc.arrivals.process == ArrivalSpec::Process::trace);
  CHECK(sc.arrivals.trace_file == "arrivals.csv");
  CHECK(sc.arrivals.times == std::vector<double>{0, 0.5, 1.5, 1.5, 10});

  fs.files["noheader.csv"] = "\n3\n4\n";
  CHECK(load(trace_scenario("noheader.csv"), {}, fs.reader()).arrivals.times == std::vector<double>{3, 4});

  const std::string at = "dir/t.json: /arrivals/file: ";
  fs.files["down.csv"] = "t\n1\n2\n1.5\n";
  CHECK(error_of(trace_scenario("down.csv"), {}, fs.reader()) ==
        at + "down.csv line 4: times must not decrease (got 1.5 after 2)");
  fs.files["neg.csv"] = "-1\n";
  CHECK(error_of(trace_scenario("neg.csv"), {}, fs.reader()) ==
        at + "neg.csv line 1: must be a non-negative time (got -1)");
  fs.files["text.csv"] = "time\n1\nsoon\n";
  CHECK(error_of(trace_scenario("text.csv"), {}, fs.reader()) ==
        at + "text.csv line 3: must be an arrival time in seconds (got \"soon\")");
  fs.files["empty.csv"] = "time\n\n";
  CHECK(error_of(trace_scenario("empty.csv"), {}, fs.reader()) == at + "empty.csv: contains no arrival times");
  CHECK(error_of(trace_scenario("absent.csv"), {}, fs.reader()) ==
        at + "cannot read absent.csv: No such file or directory");
  CHECK(error_of(trace_scenario("x.csv")) == at + "cannot read 'x.csv': no file reader was given");
}

TEST_CASE("comments: // and /* */ in the text, and a \"comment\" key in any object", "[scenario]") {
  const Scenario sc = load(R"(// a file-level note
  {
    "comment": "source: research/calycopis.md",
    "sessions": 10, /* how many */
    "arrivals": {"process": "poisson", "rate_per_s": 2, "comment": "measured 2024"},
    "dispatch": {"comment": "", "mode": "notify"},
    "kinds": {"comment": "one kind", "work": {"comment": "Skaha", "threads": 3,
      "service_s": {"dist": "mixture", "comment": "cache", "components": [
        {"comment": "hit", "weight": 1, "dist": {"dist": "constant", "value": 1, "comment": "local"}}]},
      "retry": {"comment": "x"}}},
    "templates": [{"comment": "t", "name": "t", "steps": [{"id": "w", "kind": "work", "comment": "the only step"}]}]
  })");
  REQUIRE(sc.kinds.size() == 1);  // the map's "comment" is not a kind
  CHECK(sc.kinds[0].service_s.mean() == 1);
  CHECK(sc.kinds[0].retry.max_attempts == 1);
  CHECK(error_of(kMinimal, {{"/kinds/comment", "{}"}}) == "dir/t.json: /kinds/comment: must be a string (got {})");
  CHECK(error_of(kMinimal, {{"/kinds/work/comment", "3"}}) ==
        "dir/t.json: /kinds/work/comment: must be a string (got 3)");
  CHECK(error_of(kMinimal, {{"/kinds/work/comments", "\"x\""}}) ==
        "dir/t.json: /kinds/work/comments: unknown key; did you mean 'comment'?");
}

TEST_CASE("syntax errors give the line and column", "[scenario]") {
  CHECK(
      error_of("{\n  \"sessions\": 1,\n  \"kinds\": {\"a\": 1,}\n}") ==
      "dir/t.json: line 3, column 20: syntax error while parsing object key - unexpected '}'; expected string literal");
  CHECK_THAT(error_of("// only a comment\n"), Catch::StartsWith("dir/t.json: line 2, column 1: "));
  CHECK_THAT(error_of("{\"sessions\": 1"), Catch::StartsWith("dir/t.json: line 1, column 15: "));
}

// Found by tests/fuzz/fuzz_scenario.cpp: nlohmann throws out_of_range (not parse_error) for a
// number no double holds, and stepq aborted on it; it is refused at the value's pointer.
TEST_CASE("a number too large for a double is refused at its pointer", "[scenario]") {
  CHECK(error_of(R"({"sessions": 1e999})") == "dir/t.json: /sessions: must be a number a double can hold (got 1e999)");
  CHECK(error_of(R"({"a": [[1, 2], {"x": [3, -2e400]}]})") ==
        "dir/t.json: /a/1/x/1: must be a number a double can hold (got -2e400)");
  CHECK(error_of("1e999") == "dir/t.json: must be a number a double can hold (got 1e999)");
}

TEST_CASE("a key given twice is an error, not a silent overwrite", "[scenario]") {
  CHECK(error_of(R"({"sessions": 1, "sessions": 2})") == "dir/t.json: /sessions: key given twice");
  CHECK(error_of(R"({"templates": [{"steps": [{}, {"id": "a", "kind": "k", "id": "b"}]}]})") ==
        "dir/t.json: /templates/0/steps/1/id: key given twice");
  CHECK(error_of(R"({"a": [[1, 2], {"x": [3]}, {"y": 1, "y": 2}]})") == "dir/t.json: /a/2/y: key given twice");
}

TEST_CASE("names with / and ~ are escaped in pointers and accepted by --set", "[scenario]") {
  const std::string odd = R"({"sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"fs/copy~1": {"threads": 1, "service_s": 1}},
    "templates": [{"name": "t", "steps": [{"id": "c", "kind": "fs/copy~1"}]}]})";
  CHECK(load(odd, {{"/kinds/fs~1copy~01/threads", "5"}}).pools[0].threads == 5);
  CHECK(error_of(odd, {{"/kinds/fs~1copy~01/threads", "0"}}) ==
        "dir/t.json: /kinds/fs~1copy~01/threads: must be a positive integer (got 0)");
}

TEST_CASE("set overrides (--set) are applied before validation", "[scenario][override]") {
  const Override o = parse_override("/kinds/work/service_s={\"dist\": \"exponential\", \"mean\": 2}");
  CHECK(o.pointer == "/kinds/work/service_s");
  CHECK(o.value == "{\"dist\": \"exponential\", \"mean\": 2}");
  CHECK(parse_override("/a=b=c").value == "b=c");
  CHECK_THROWS_WITH(parse_override("kinds/work/threads=3"),
                    "--set kinds/work/threads=3: expected /json/pointer=value, e.g. /kinds/work/threads=4");
  CHECK_THROWS_WITH(parse_override("/kinds/work/threads"),
                    "--set /kinds/work/threads: expected /json/pointer=value, e.g. /kinds/work/threads=4");
  CHECK_THROWS_AS(parse_override("/a~2=1"), ScenarioError);

  const Scenario sc = load(kMinimal, {o,
                                      {"/name", "renamed run"},  // not JSON: taken as a string
                                      {"/seed", "7"},
                                      {"/kinds/work/threads", "8"},
                                      {"/kinds/work/retry", R"({"max_attempts": 4})"},
                                      {"/templates/0/steps/-", R"({"id": "v", "kind": "work", "after": ["w"]})"},
                                      {"/templates/0/steps/1/service_s", "2"}});
  CHECK(sc.name == "renamed run");
  CHECK(sc.seed == 7);
  CHECK(sc.pools[0].threads == 8);
  CHECK(sc.kinds[0].retry.max_attempts == 4);
  CHECK(sc.kinds[0].service_s.type() == Dist::Type::exponential);
  REQUIRE(sc.templates[0].steps.size() == 2);
  CHECK(sc.templates[0].total_prepare_cost_s == Approx(4));  // exponential mean 2, then 2
  CHECK(load(kMinimal, {{"/name", "\"42\""}}).name == "42");

  // Overridden values are checked like written ones.
  CHECK(error_of(kMinimal, {{"/kinds/work/threads", "-1"}}) ==
        "dir/t.json: /kinds/work/threads: must be a positive integer (got -1)");
  CHECK(error_of(kMinimal, {{"/kinds/work/threads", "many"}}) ==
        "dir/t.json: /kinds/work/threads: must be a positive integer (got \"many\")");
  // Where the override cannot go.
  CHECK(error_of(kMinimal, {{"/kinds/wrk/threads", "3"}}) ==
        "dir/t.json: --set /kinds/wrk/threads: /kinds/wrk does not exist");
  CHECK(error_of(kMinimal, {{"/a/b/c", "3"}}) == "dir/t.json: --set /a/b/c: /a/b does not exist");
  CHECK(error_of(kMinimal, {{"/sessions/x", "3"}}) ==
        "dir/t.json: --set /sessions/x: /sessions is 10, not an object or an array");
  CHECK(error_of(kMinimal, {{"/templates/5", "{}"}}) ==
        "dir/t.json: --set /templates/5: /templates is an array of 1; give an index up to its size, or - to append");
  CHECK(error_of(kMinimal, {{"/templates/99999999999999999999999/name", "3"}}) ==
        "dir/t.json: --set /templates/99999999999999999999999/name: /templates/99999999999999999999999 does not exist");
  CHECK(error_of(kMinimal, {{"", "{}"}}) == "dir/t.json: --set : cannot replace the whole scenario");
}

TEST_CASE("load_scenario_file reads the file and resolves trace files beside it", "[scenario][file]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("stepq_scenario_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "s.json") << trace_scenario("trace.csv");
  std::ofstream(dir / "sub" / "trace.csv") << "t\n1\n2\n";
  std::ofstream(dir / "sub" / "bad.json") << kMinimal;

  const std::string path = (dir / "sub" / "s.json").string();
  const Scenario sc = load_scenario_file(path);
  CHECK(sc.file == path);
  CHECK(sc.name == "s");
  CHECK(sc.arrivals.times == std::vector<double>{1, 2});

  const std::string bad = (dir / "sub" / "bad.json").string();
  CHECK_THROWS_WITH(load_scenario_file(bad, {{"/kinds/work/threads", "0"}}),
                    bad + ": /kinds/work/threads: must be a positive integer (got 0)");
  const std::string missing = (dir / "nope.json").string();
  CHECK_THROWS_WITH(load_scenario_file(missing),
                    missing + ": cannot read the scenario file: No such file or directory");
  CHECK_THROWS_WITH(load_scenario_file(dir.string()), dir.string() + ": cannot read the scenario file: Is a directory");
  fs::remove(dir / "sub" / "trace.csv");
  CHECK_THROWS_WITH(load_scenario_file(path), path + ": /arrivals/file: cannot read " +
                                                  (dir / "sub" / "trace.csv").string() + ": No such file or directory");
  fs::remove_all(dir);
}

#ifdef STEPQ_SOURCE_DIR
// The same check as tests/expect_bad.cmake, without the executable: each file's first line names
// the pointer its one defect must be reported at.
TEST_CASE("every tests/bad scenario is rejected at the pointer its first line names", "[scenario][bad]") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(STEPQ_SOURCE_DIR) / "tests" / "bad")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string path = entry.path().string();
    std::string first;
    std::ifstream in(path);
    std::getline(in, first);
    const auto at = first.find("// expect: ");
    INFO(path);
    REQUIRE(at == 0);
    const std::string pointer = first.substr(11);
    std::string message = "no error";
    try {
      load_scenario_file(path);
    } catch (const ScenarioError& e) {
      message = e.what();
    }
    CHECK_THAT(message, Catch::StartsWith(path + ": " + pointer + ": "));
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK(files >= 14);
}
#endif
