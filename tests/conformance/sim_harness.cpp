// The conformance harness's simulator side (harness.hpp): SimGrid's headers in one file only.
#include "conformance/harness.hpp"

#include <simgrid/s4u.hpp>

#include "sim/simulation.hpp"
#include "sim/world.hpp"

namespace stepq::conformance {

struct SimHarness final : Harness {
  sim::World* world = nullptr;
  std::uint64_t next = 0;
  Queue& q() override { return *world; }
  void submit() override { world->accept(next++); }
  void advance(double s) override { simgrid::s4u::this_actor::sleep_for(s); }
  double now() override { return world->now(); }
};

// SimGrid runs one engine per process: each case runs in a child. A failed REQUIRE in the child
// prints its message there (same stdout) and makes the child exit 1.
void run_sim(const Scenario& sc, const Case& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int ok = 1;
    {
      std::vector<std::string> args = sim::engine_args({});  // as a simulation's engine starts
      args.push_back("--log=root.thresh:critical");
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      int argc = static_cast<int>(argv.size());
      simgrid::s4u::Engine engine(&argc, argv.data());
      SimHarness h;
      h.sc = sc;
      sim::World world(h.sc, 0);  // builds the platform: its broker host runs the actors
      h.world = &world;
      auto* host = world.broker();
      simgrid::s4u::Actor::create("promoter", host, [&] {
        simgrid::s4u::Actor::self()->daemonize();
        world.promote_forever();
      });
      simgrid::s4u::Actor::create("case", host, [&] {
        try {
          body(h);
          ok = 0;
        } catch (...) {
        }
      });
      engine.run();
    }
    std::fflush(nullptr);
    _exit(ok);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  INFO("the case failed in the simulator's child process (its message is above)");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

}  // namespace stepq::conformance
