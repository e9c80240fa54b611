#include "simulation.hpp"

#include <simgrid/s4u.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/model_services.hpp"
#include "core/rng.hpp"
#include "core/warmup.hpp"
#include "core/worker.hpp"
#include "reports/progress.hpp"
#include "world.hpp"

namespace stepq::sim {

namespace sg4 = simgrid::s4u;

namespace {

struct Run {
  const Scenario& sc;
  World world;
  std::unique_ptr<Services> services;
  std::string error;
  Progress* progress = nullptr;

  // An exception escaping an actor would abort the process: record it and stop everything.
  template <class F>
  void guarded(const char* who, F&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      if (error.empty()) error = std::string(who) + ": " + e.what();
      sg4::Actor::kill_all();
    }
  }

  void generate() {
    Stream arrivals(derive(sc.seed, static_cast<std::uint64_t>(Purpose::arrivals)));
    const auto& a = sc.arrivals;
    const std::uint64_t limit = sc.sessions.value_or(UINT64_MAX);
    const double horizon = sc.duration_s.value_or(INFINITY);
    double t = 0, first = 0, last = 0;
    std::uint64_t n = 0;  // sessions accepted
    for (std::uint64_t i = 0; i < limit; ++i) {
      const std::uint64_t j = i - std::min(i, a.burst);  // index within the arrival process
      if (i < a.burst) t = 0;
      else if (a.process == ArrivalSpec::Process::poisson) t += -std::log(arrivals.uniform()) / a.rate_per_s;
      else if (a.process == ArrivalSpec::Process::periodic) t = static_cast<double>(j) / a.rate_per_s;
      else if (j < a.times.size()) t = a.times[j];
      else break;
      if (t > horizon) break;
      if (t > world.now()) sg4::this_actor::sleep_until(t);
      world.accept(i);
      if (n++ == 0) first = t;
      last = t;
      progress->update(i + 1);
    }
    // A control variate for the validation tests: its expectation is known (1/rate for Poisson).
    world.stats().interarrival_s_mean = n > 1 ? (last - first) / static_cast<double>(n - 1) : 0.0;
    world.wait_until_all_finished();
    progress->done();
  }
};

void apply_warmup(World& w, const Warmup& wu) {
  RunStats& st = w.stats();
  st.warmup_method = wu.name();
  if (wu.method == Warmup::Method::none) return;
  const auto& series = w.startup_by_index();
  if (wu.method == Warmup::Method::fixed) {
    st.warmup_reason = "fixed";
    w.drop_warmup(std::min<std::uint64_t>(wu.sessions, series.size()));
    return;
  }
  // The series is the start-up of the sessions that started, in arrival order; the cut-off is
  // the arrival index of the first kept one, so sessions that failed in the warm-up go too.
  std::vector<double> started;
  started.reserve(series.size());
  for (const double s : series)
    if (!std::isnan(s)) started.push_back(s);
  std::size_t d = 0;
  if (wu.method == Warmup::Method::mser5) {
    const Mser5 m = mser5(started);
    d = m.drop;
    st.warmup_reason = m.capped ? "cap" : d > 0 ? "fell" : "none";
  } else {
    const WarmupCut c = checked_mser5(started);
    d = c.drop;
    st.warmup_reason = reason_name(c.reason);
    st.warmup_contrast = c.contrast;
  }
  std::uint64_t cutoff = 0;  // the arrival index of the d-th session that started
  for (std::size_t seen = 0; d > 0 && cutoff < series.size(); ++cutoff)
    if (!std::isnan(series[cutoff]) && seen++ == d) break;
  w.drop_warmup(cutoff);
}

}  // namespace

Warmup Warmup::parse(const std::string& s) {
  if (s == "auto") return {Method::automatic, 0};
  if (s == "none") return {Method::none, 0};
  if (s == "mser5") return {Method::mser5, 0};
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return {Method::fixed, std::stoull(s)};
  throw std::invalid_argument("must be auto, none, mser5 or a number of sessions (got " + s + ")");
}

std::string Warmup::name() const {
  switch (method) {
    case Method::none: return "none";
    case Method::automatic: return "auto";
    case Method::mser5: return "mser5";
    case Method::fixed: return "fixed";
  }
  return "?";
}

std::vector<std::string> engine_args(const SimOptions& opt) {
  // SimGrid reads --cfg/--log from argv; the CLI passes its own settings through here.
  std::vector<std::string> args = {"stepq", "--log=root.thresh:warning", "--log=xbt_cfg.thresh:warning",
                                   // Transfer time = latency + bytes/bandwidth, shared by CM02's
                                   // max-min: no TCP-window cap or empirical correction factors.
                                   "--cfg=network/model:CM02", "--cfg=network/TCP-gamma:0",
                                   "--cfg=network/crosstraffic:0"};
#ifdef STEPQ_SANITIZED
  // A sanitizer cannot follow SimGrid's own stack switching: an exception in an actor (a kill at
  // the end of a run) makes ASan report its own stack bookkeeping (google/sanitizers#189). In a
  // sanitized build actors run as threads, whose stacks it knows.
  args.push_back("--cfg=contexts/factory:thread");
#endif
  for (const auto& c : opt.simgrid_cfg) args.push_back("--cfg=" + c);
  return args;
}

RunStats run_simulation(const Scenario& sc, const SimOptions& opt) {
  const auto wall0 = std::chrono::steady_clock::now();
  std::vector<std::string> args = engine_args(opt);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  sg4::Engine engine(&argc, argv.data());

  // MSER-5 never cuts more than half the run, so only the first half's claims are remembered.
  const std::uint64_t early_limit = opt.warmup.method == Warmup::Method::fixed ? opt.warmup.sessions
                                    : opt.warmup.method == Warmup::Method::none
                                        ? 0
                                        : (sc.sessions ? *sc.sessions / 2 + 5 : UINT32_MAX);
  Progress progress("simulating", "sessions arrived", sc.sessions.value_or(0), opt.progress);
  Run run{sc, World(sc, early_limit), nullptr, {}, &progress};
  run.world.set_trace(opt.trace);
  run.services = opt.services ? opt.services(run.world, run.world)
                              : std::make_unique<ModelServices>(run.world, &run.world, &run.world);
  sg4::Host* broker = run.world.broker();

  sg4::Actor::create("generator", broker, [&run] { run.guarded("session generator", [&] { run.generate(); }); });
  sg4::Actor::create("promoter", broker, [&run] {
    sg4::Actor::self()->daemonize();
    run.guarded("promoter", [&] { run.world.promote_forever(); });
  });
  for (std::size_t p = 0; p < sc.pools.size(); ++p)
    for (int t = 0; t < sc.pools[p].threads; ++t)
      sg4::Actor::create(sc.pools[p].name + "#" + std::to_string(t), broker, [&run, p] {
        sg4::Actor::self()->daemonize();
        run.guarded("worker", [&] {
          WorkerEnv env{run.sc, run.world, run.world, *run.services, run.world};
          run_worker(env, static_cast<int>(p));
        });
      });

  engine.run();
  if (!run.error.empty()) throw std::runtime_error("simulation stopped: " + run.error);

  run.world.finish_timeline(sg4::Engine::get_clock());
  apply_warmup(run.world, opt.warmup);
  RunStats stats = std::move(run.world.stats());
  stats.simulated_s = sg4::Engine::get_clock();
  stats.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return stats;
}

}  // namespace stepq::sim
