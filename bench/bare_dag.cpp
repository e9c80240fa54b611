// The yardstick: a bare SimGrid 3.32 model of the same 4-step session DAG, with nothing but a
// Semaphore + deque per pool (the fastest pattern measured in research/toolchain.md).
// stepq's own simulation of bench/dag4.json must reach at least half its steps per second.
//   bare_dag SESSIONS
#include <simgrid/s4u.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <random>

namespace sg4 = simgrid::s4u;

namespace {
struct Session {
  double svc[4];
  int left_compute = 2;  // compute waits for executable and data
  int steps_left = 4;
};
struct Pool {
  std::deque<std::pair<Session*, int>> q;
  sg4::SemaphorePtr sem = sg4::Semaphore::create(0);
};
Pool pools[4];  // 0 executable, 1 storage, 2 data, 3 compute
long steps_done = 0;

void push(Session* s, int k) {
  pools[k].q.emplace_back(s, k);
  pools[k].sem->release();
}

void worker(int k) {
  sg4::Actor::self()->daemonize();
  for (;;) {
    pools[k].sem->acquire();
    auto [s, kind] = pools[k].q.front();
    pools[k].q.pop_front();
    sg4::this_actor::sleep_for(s->svc[kind]);
    ++steps_done;
    if (kind == 1) push(s, 2);
    if ((kind == 0 || kind == 2) && --s->left_compute == 0) push(s, 3);
    if (--s->steps_left == 0) delete s;
  }
}
}  // namespace

int main(int argc, char** argv) {
  sg4::Engine e(&argc, argv);
  const long n = argc > 1 ? std::atol(argv[1]) : 100000;
  auto* z = sg4::create_full_zone("z");
  auto* h = z->create_host("h", "1Gf")->seal();
  z->seal();
  const auto t0 = std::chrono::steady_clock::now();
  sg4::Actor::create("gen", h, [n] {
    std::mt19937_64 rng(1);
    std::exponential_distribution<double> arrive(10.0), svc(1 / 0.56);  // rho = 0.7 on 8 threads
    for (long i = 0; i < n; ++i) {
      sg4::this_actor::sleep_for(arrive(rng));
      auto* s = new Session{{svc(rng), svc(rng), svc(rng), svc(rng)}};
      push(s, 0);
      push(s, 1);
    }
    while (steps_done < 4 * n) sg4::this_actor::sleep_for(10);
  });
  for (int k = 0; k < 4; ++k)
    for (int w = 0; w < 8; ++w) sg4::Actor::create("w", h, worker, k);
  e.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("bare SimGrid 4-step DAG: %ld sessions, %ld steps in %.3f s wall = %.0f steps/s\n", n, steps_done, wall,
              steps_done / wall);
}
