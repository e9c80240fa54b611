#include "engine.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "core/scenario.hpp"
#include "core/worker.hpp"

namespace stepq::live {

namespace {

// Linux lets a sleeping thread wake up to 50 µs late by default (timer slack). At --time-scale
// 0.01 that is 5 ms of scenario time on every promotion and emulated operation: ask for 1 µs.
void precise_timers() { prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); }

std::atomic<int> g_signal{0};  // how many SIGINT/SIGTERM arrived: a second one cuts the grace short
extern "C" void on_signal(int) { g_signal.fetch_add(1); }

// Idle workers of one pool sleep here. A token per wake-up, so a notification that arrives while
// no thread is waiting is not lost; the thread that takes a token and claims a step passes one on
// (there may be more), so a burst of READY steps fans out without waking every thread for each.
struct PoolWake {
  std::mutex m;
  std::condition_variable cv;
  int tokens = 0;
  int cap = 1;
};

class Engine final : public Clock, public Recorder, public Queue {
 public:
  Engine(LiveStore& store, const Scenario& sc, const LiveOptions& opt)
      : store_(store), sc_(sc), opt_(opt), pools_(sc.pools.size()) {
    for (std::size_t p = 0; p < sc.pools.size(); ++p) pools_[p].cap = sc.pools[p].threads;
  }

  // Clock: model seconds = wall seconds / time scale.
  double now() override { return wall_now() / opt_.time_scale; }
  void sleep_for(double s) override {
    if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s * opt_.time_scale));
  }
  bool wait_for_work(int pool) override {
    PoolWake& w = pools_[pool];
    std::unique_lock lk(w.m);
    const double wait_wall = sc_.dispatch.mode == DispatchSpec::Mode::poll
                                 ? sc_.dispatch.poll_interval_s * opt_.time_scale
                                 : opt_.fallback_poll_s;
    w.cv.wait_for(lk, std::chrono::duration<double>(wait_wall), [&] {
      return stopping_.load() || (sc_.dispatch.mode == DispatchSpec::Mode::notify && w.tokens > 0);
    });
    if (w.tokens > 0) w.tokens--;
    return !stopping_.load();
  }
  void wake(int pool) {
    PoolWake& w = pools_[pool];
    {
      std::lock_guard lk(w.m);
      if (w.tokens < w.cap) w.tokens++;
    }
    w.cv.notify_one();
  }
  void wake_all_for_stop() {
    for (auto& w : pools_) {
      std::lock_guard lk(w.m);
      w.cv.notify_all();
    }
    promoter_cv_.notify_all();
  }

  // Queue: the store's, except that a stopping engine claims nothing.
  std::optional<StepRef> claim(int pool) override {
    if (stopping_.load()) return std::nullopt;
    auto s = store_.claim(pool);
    if (s) wake(pool);  // pass the baton: there may be more READY steps
    return s;
  }
  bool predecessors_done(const StepRef& s) override { return store_.predecessors_done(s); }
  bool finish(const StepRef& s, const Outcome& o) override { return store_.finish(s, o); }

  // Recorder: counters for the summary line; the database keeps the full history.
  void claimed(int, const StepRef&, double) override { sum_.claims++; }
  void ran(int, const StepRef&, double, const Outcome& o, bool applied) override {
    if (!applied) sum_.lost++;
    else if (o.type == Outcome::Type::completed) sum_.completed++;
    else if (o.type == Outcome::Type::failed) sum_.failed++;
    else sum_.waits++;
  }
  void empty_claim(int) override {}

  LiveSummary run(const ServicesFactory& make_services);

 private:
  void promoter();
  void heartbeat();
  void watch();
  void fold_status();
  template <class F>
  void guarded(const char* who, F&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      std::lock_guard lk(error_mu_);
      if (error_.empty()) error_ = std::string(who) + ": " + e.what();
      stop("error");
    }
  }
  // The first reason stays. It is set before stopping_, so a thread that sees stopping_ sees it;
  // run() reads it while a worker that erred may still be in here (past a short grace period).
  void stop(const char* why) {
    const char* none = nullptr;
    stopped_by_.compare_exchange_strong(none, why);
    stopping_.store(true);
    wake_all_for_stop();
  }

  LiveStore& store_;
  const Scenario& sc_;
  const LiveOptions& opt_;
  std::vector<PoolWake> pools_;
  std::atomic<bool> stopping_{false};
  std::atomic<const char*> stopped_by_{nullptr};  // a string literal
  std::mutex error_mu_;
  std::string error_;  // under error_mu_: a worker still running past the grace period may set it
  std::mutex promoter_mu_;
  std::condition_variable promoter_cv_;
  double promoter_until_ = 0;
  double waiting_hint_ = INFINITY;  // earliest not-before of steps this process put in WAITING
  struct Counters {
    std::atomic<std::uint64_t> claims{0}, completed{0}, failed{0}, waits{0}, lost{0};
  } sum_;
  std::atomic<std::uint64_t> reaped_{0};
};

void Engine::promoter() {
  // Promotes due WAITING steps, and wakes pools when another process made steps READY (SQLite's
  // data_version changes on every commit by another connection, PostgreSQL's notifications; a
  // check that finds nothing costs no query).
  std::optional<double> next_due = store_.promote();
  while (!stopping_.load()) {
    if (next_due && *next_due <= wall_now()) next_due = store_.promote();
    if (const auto e = store_.changes_elsewhere(); e.any) {
      for (std::size_t p = 0; p < e.ready.size(); ++p)
        if (e.ready[p]) wake(static_cast<int>(p));
      if (e.waiting) next_due = store_.promote();
    }
    std::unique_lock lk(promoter_mu_);
    if (waiting_hint_ < next_due.value_or(INFINITY)) next_due = waiting_hint_;
    waiting_hint_ = INFINITY;
    promoter_until_ = std::min(wall_now() + 0.001, next_due.value_or(INFINITY));
    promoter_cv_.wait_for(lk, std::chrono::duration<double>(std::max(0.0, promoter_until_ - wall_now())),
                          [&] { return stopping_.load() || waiting_hint_ < promoter_until_; });
    if (waiting_hint_ < next_due.value_or(INFINITY)) next_due = waiting_hint_;
    waiting_hint_ = INFINITY;
  }
}

// Heartbeats on a thread of their own: the reaper's and the idle check's queries can wait on
// other processes' writes (locks), and a heartbeat queued behind them would be late, and this
// processor taken for dead by the others.
void Engine::heartbeat() {
  double next_beat = wall_now() + opt_.heartbeat_s;
  while (!stopping_.load()) {
    if (wall_now() >= next_beat) {
      store_.heartbeat();
      next_beat = wall_now() + opt_.heartbeat_s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The reaper, every heartbeat interval; the stop conditions (signal, --for, --until-idle).
void Engine::watch() {
  const double start = wall_now();
  double next_reap = start + opt_.heartbeat_s;
  double idle_since = INFINITY;
  while (!stopping_.load()) {
    if (g_signal.load()) {
      stop("signal");
      break;
    }
    const double now = wall_now();
    if (opt_.for_s && now - start >= *opt_.for_s) {
      stop("time");
      break;
    }
    if (now >= next_reap) {
      reaped_ += static_cast<std::uint64_t>(store_.reap(opt_.lease_s));
      next_reap = now + opt_.heartbeat_s;
    }
    if (opt_.until_idle) {
      // Idle for a moment, not an instant: a `live submit` started together with this process
      // may not have registered yet.
      if (!store_.idle(opt_.lease_s)) idle_since = INFINITY;
      else if (idle_since == INFINITY) idle_since = now;
      else if (now - idle_since >= opt_.idle_s) {
        stop("idle");
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// On a thread of its own, and through LiveStore::fold_status on a connection of its own: a first
// fold of a long log reads all of it (15 s at 10^7 rows), which must hold up neither the reaper
// nor the heartbeat nor a claim. A failed fold changes nothing (a summary is written whole, over
// the generation it read) and is no reason to stop.
void Engine::fold_status() {
  if (opt_.fold_status_s <= 0) return;
  double next = wall_now() + opt_.fold_status_s;
  while (!stopping_.load()) {
    if (wall_now() >= next) {
      try {
        store_.fold_status();
      } catch (const std::exception&) {
      }
      next = wall_now() + opt_.fold_status_s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

LiveSummary Engine::run(const ServicesFactory& make_services) {
  const double start = wall_now();
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  std::string pools;
  for (const auto& p : sc_.pools) pools += (pools.empty() ? "" : ",") + p.name + "=" + std::to_string(p.threads);
  LiveSummary out;
  out.processor = store_.register_processor(host, getpid(), pools);
  store_.on_ready = [this](int pool) { wake(pool); };
  store_.on_waiting = [this](double due) {
    std::lock_guard lk(promoter_mu_);
    waiting_hint_ = std::min(waiting_hint_, due);
    if (due < promoter_until_) promoter_cv_.notify_one();
  };
  // Steps left RUNNING by processors that died while nobody watched (counted in the summary too).
  reaped_ += static_cast<std::uint64_t>(store_.reap(opt_.lease_s));

  g_signal.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::unique_ptr<Services> services = make_services(*this);
  WorkerEnv env{sc_, *this, *this, *services, *this};
  std::atomic<int> running_workers{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::vector<std::thread> workers;
  for (std::size_t p = 0; p < sc_.pools.size(); ++p)
    for (int t = 0; t < sc_.pools[p].threads; ++t) {
      running_workers++;
      workers.emplace_back([&, p] {
        precise_timers();
        guarded("worker", [&] { run_worker(env, static_cast<int>(p)); });
        std::lock_guard lk(done_mu);
        running_workers--;
        done_cv.notify_all();
      });
    }
  std::thread promote([this] {
    precise_timers();
    guarded("promoter", [this] { promoter(); });
  });
  std::thread beat([this] { guarded("heartbeat", [this] { heartbeat(); }); });
  std::thread watch([this] { guarded("reaper", [this] { this->watch(); }); });
  std::thread fold([this] { fold_status(); });
  watch.join();
  fold.join();
  beat.join();
  promote.join();

  // Stopping: running steps may finish within the grace period.
  {
    std::unique_lock lk(done_mu);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(opt_.grace_s);
    while (running_workers.load() > 0 && g_signal.load() < 2 && std::chrono::steady_clock::now() < until)
      done_cv.wait_for(lk, std::chrono::milliseconds(50));
  }
  out.claims = sum_.claims;
  out.completed = sum_.completed;
  out.failed = sum_.failed;
  out.waits = sum_.waits;
  out.lost = sum_.lost;
  out.reaped = reaped_;
  {
    std::lock_guard lk(error_mu_);
    const char* by = stopped_by_.load();  // set: the heartbeat thread ends only once stopping_ is
    out.stopped_by = !error_.empty() ? "error: " + error_ : by ? by : "?";
  }
  if (running_workers.load() > 0) {
    // Steps still running past the grace period go back to READY for another processor, and this
    // process ends without waiting for them (their threads cannot be interrupted safely).
    out.released = static_cast<std::uint64_t>(store_.release_running());
    store_.stop_processor("stopped (" + out.stopped_by + "); released " + std::to_string(out.released) +
                          " running steps after the grace period");
    out.wall_s = wall_now() - start;
    if (!opt_.quiet) std::fprintf(stderr, "%s\n", describe(out).c_str());
    std::fflush(nullptr);
    std::_Exit(0);
  }
  for (auto& t : workers) t.join();
  if (!error_.empty()) {
    // A step whose finish failed with the error that stopped us is still RUNNING here: hand it
    // back now, keeping its attempt, rather than leave it to a reaper a lease later, which counts a
    // new attempt (a kind allowed one would fail its session). If the database still refuses, the
    // reaper it is.
    try {
      out.released = static_cast<std::uint64_t>(store_.release_running());
    } catch (const std::exception&) {
    }
  }
  store_.stop_processor("stopped (" + out.stopped_by + ")");
  store_.on_ready = nullptr;
  store_.on_waiting = nullptr;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  out.wall_s = wall_now() - start;
  return out;
}

}  // namespace

std::string describe(const LiveSummary& s) {
  char b[400];
  std::snprintf(b, sizeof b,
                "live run: processor %lld claimed %llu steps in %.1f s (%llu completed, %llu failed, %llu back to "
                "WAITING, %llu lost leases; reaped %llu of dead processors; released %llu); stopped by %s",
                static_cast<long long>(s.processor), static_cast<unsigned long long>(s.claims), s.wall_s,
                static_cast<unsigned long long>(s.completed), static_cast<unsigned long long>(s.failed),
                static_cast<unsigned long long>(s.waits), static_cast<unsigned long long>(s.lost),
                static_cast<unsigned long long>(s.reaped), static_cast<unsigned long long>(s.released),
                s.stopped_by.c_str());
  return b;
}

LiveSummary run_live(LiveStore& store, const Scenario& sc, const ServicesFactory& services, const LiveOptions& opt) {
  Engine e(store, sc, opt);
  return e.run(services);
}

}  // namespace stepq::live
