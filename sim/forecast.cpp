#include "forecast.hpp"

#include <simgrid/s4u.hpp>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "core/model_services.hpp"
#include "core/rng.hpp"
#include "core/worker.hpp"
#include "isolated.hpp"
#include "reports/progress.hpp"
#include "simulation.hpp"
#include "world.hpp"

namespace stepq::sim {

namespace sg4 = simgrid::s4u;
using ojson = nlohmann::ordered_json;

namespace {

// ModelServices whose first draw for a resumed step, and whose poll ready times, are conditioned
// on what the snapshot shows: a step that has run t seconds runs S − t more, given S > t.
class ForecastServices final : public ModelServices {
 public:
  using ModelServices::ModelServices;
  std::map<std::tuple<std::uint64_t, int, int>, double> ran;        // (session, step, attempt) → t
  std::map<std::pair<std::uint64_t, int>, double> not_ready_after;  // (session, step) → its last look
  std::map<std::tuple<std::uint64_t, int, int>, double> copying;    // (session, step, attempt) → bytes left

 protected:
  double service_time(const StepContext& c, const Dist& d, Stream& rng) override {
    if (copying.count({c.ref.session, c.ref.step, c.ref.attempt})) {  // its service was behind it: it was copying
      ran.erase({c.ref.session, c.ref.step, c.ref.attempt});
      return 0;
    }
    const auto it = ran.find({c.ref.session, c.ref.step, c.ref.attempt});
    if (it == ran.end()) return d.sample(rng);
    const double t = it->second;
    ran.erase(it);  // only the execution under way; a poll's next look is drawn afresh
    return d.sample_beyond(rng, t) - t;
  }
  double bytes_to_move(const StepContext& c, double bytes) override {
    const auto it = copying.find({c.ref.session, c.ref.step, c.ref.attempt});
    if (it == copying.end()) return bytes;
    const double left = it->second;
    copying.erase(it);  // only the copy under way; a retry moves the whole again
    return left;
  }
  double ready_time(const StepContext& c, Stream& rng) override {
    const auto it = not_ready_after.find({c.ref.session, c.ref.step});
    const Dist& d = c.kind.poll->ready_after_s;
    return it == not_ready_after.end() ? d.sample(rng) : d.sample_beyond(rng, it->second);
  }
};

// One replication, in the calling process (a SimGrid engine runs once per process).
ojson forecast_once(const Scenario& sc, const QueueSnapshot& snap, int probe_tmpl) {
  std::vector<std::string> args = engine_args({});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  sg4::Engine engine(&argc, argv.data());

  World world(sc, 0);
  ForecastServices services(world, &world, &world);
  for (const auto& s : snap.sessions)
    for (std::size_t i = 0; i < s.steps.size(); ++i)
      if (!std::isnan(s.steps[i].not_ready_after))
        services.not_ready_after[{s.index, static_cast<int>(i)}] = s.steps[i].not_ready_after;
  const std::vector<World::Resumed> resumed = world.restore(snap);
  for (const auto& r : resumed) {
    services.ran[{r.ref.session, r.ref.step, r.ref.attempt}] = r.elapsed;
    if (r.copy_left >= 0) services.copying[{r.ref.session, r.ref.step, r.ref.attempt}] = r.copy_left;
  }

  // Which sessions are watched: those still in start-up, and the new one.
  std::unordered_map<std::uint64_t, std::size_t> slot;
  std::vector<double> startup(snap.sessions.size() + 1, std::nan(""));
  std::size_t left = 1;
  for (std::size_t i = 0; i < snap.sessions.size(); ++i)
    if (!snap.sessions[i].ended && std::isnan(snap.sessions[i].started_at)) slot[snap.sessions[i].index] = i, ++left;
  slot[snap.next_index] = snap.sessions.size();
  sg4::SemaphorePtr all_known = sg4::Semaphore::create(0);
  world.on_startup_end = [&](std::uint64_t index, double t) {
    const auto it = slot.find(index);
    if (it == slot.end()) return;
    startup[it->second] = t;
    slot.erase(it);
    if (--left == 0) all_known->release();
  };

  std::string error;
  auto guarded = [&error](auto&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
      sg4::Actor::kill_all();
    }
  };
  sg4::Host* broker = world.broker();
  sg4::Actor::create("generator", broker, [&] {
    guarded([&] {
      world.accept(snap.next_index, probe_tmpl);
      Stream arrivals(derive(sc.seed, static_cast<std::uint64_t>(Purpose::arrivals)));
      const ArrivalSpec& a = sc.arrivals;
      double t = 0;
      for (std::uint64_t i = snap.next_index + 1;; ++i) {
        if (a.process == ArrivalSpec::Process::poisson) t += -std::log(arrivals.uniform()) / a.rate_per_s;
        else if (a.process == ArrivalSpec::Process::periodic) t += 1 / a.rate_per_s;
        else t = INFINITY;  // a trace has no rate to continue at: no further arrivals
        if (!all_known->acquire_timeout(std::isinf(t) ? 1e15 : std::max(0.0, t - world.now()))) return;
        world.accept(i);
      }
    });
  });
  sg4::Actor::create("promoter", broker, [&] {
    sg4::Actor::self()->daemonize();
    guarded([&] { world.promote_forever(); });
  });
  // A pool's RUNNING steps hold its threads: those threads finish them, then claim as usual.
  // Steps beyond the pool's threads (other processes ran more) finish and leave.
  std::vector<int> busy(sc.pools.size(), 0);
  for (const World::Resumed& r : resumed) {
    const bool stays = busy[r.pool]++ < sc.pools[r.pool].threads;
    sg4::Actor::create("resumed", broker, [&, r, stays] {
      sg4::Actor::self()->daemonize();
      guarded([&] {
        WorkerEnv env{sc, world, world, services, world};
        process_step(env, r.pool, r.ref);
        if (stays) run_worker(env, r.pool);
      });
    });
  }
  for (std::size_t p = 0; p < sc.pools.size(); ++p)
    for (int t = busy[p]; t < sc.pools[p].threads; ++t)
      sg4::Actor::create(sc.pools[p].name + "#" + std::to_string(t), broker, [&, p] {
        sg4::Actor::self()->daemonize();
        guarded([&] {
          WorkerEnv env{sc, world, world, services, world};
          run_worker(env, static_cast<int>(p));
        });
      });
  engine.run();
  if (!error.empty()) throw std::runtime_error(error);
  return ojson(startup);
}

}  // namespace

Forecast run_forecast(const Scenario& sc, const QueueSnapshot& snap, const ForecastPlan& plan) {
  const int jobs = child_jobs(plan.jobs);
  std::vector<ojson> runs(static_cast<std::size_t>(plan.replications));
  std::atomic<int> next{0};
  std::mutex mu;
  std::string error;
  int done = 0;
  Progress progress("forecasting", "replications done", static_cast<std::uint64_t>(plan.replications), plan.progress);
  run_children(std::min(jobs, plan.replications), [&] {
    for (int r; (r = next++) < plan.replications;) {
      Scenario one = sc;
      one.seed = derive(derive(sc.seed, static_cast<std::uint64_t>(Purpose::forecast)), static_cast<std::uint64_t>(r));
      try {
        ojson res = run_in_child([&] { return forecast_once(one, snap, plan.probe_tmpl); });
        std::lock_guard<std::mutex> l(mu);
        runs[static_cast<std::size_t>(r)] = std::move(res);
        progress.update(static_cast<std::uint64_t>(++done));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu);
        if (error.empty()) error = "forecast replication " + std::to_string(r) + ": " + e.what();
        return;
      }
    }
  });
  if (!error.empty()) throw std::runtime_error(error);
  progress.done();

  Forecast f;
  f.startup.resize(snap.sessions.size());
  for (const ojson& run : runs) {
    for (std::size_t i = 0; i < snap.sessions.size(); ++i)
      if (!snap.sessions[i].ended && std::isnan(snap.sessions[i].started_at))
        f.startup[i].push_back(run[i].is_number() ? run[i].get<double>() : std::nan(""));
    f.probe.push_back(run.back().is_number() ? run.back().get<double>() : std::nan(""));
  }
  return f;
}

}  // namespace stepq::sim
