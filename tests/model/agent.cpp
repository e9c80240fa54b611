// One process of the model check (model_check.hpp): a LiveStore on the database named by argv[1],
// bound to the model's scenario and registered as a processor, doing what it reads on stdin, one
// command a line, and answering each with one line on stdout:
//   submit             → the new session's id
//   claim POOL         → "S id fence session num attempt", or "-"
//   finish ID FENCE O  → 1 if it counted, 0 if the lease was lost (O: completed failed retry requeue)
//   cancel SESSION     → "cancelled N" or "finished 0"
//   reap LEASE_S       → how many steps it reaped
//   promote, heartbeat → "ok", 1 or 0
//   stop               → how many RUNNING steps it handed back; then it stops as a processor
// A store error answers "E what". The first line it writes is "ready PROCESSOR_ID".
#include <unistd.h>

#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "backends/live/open_store.hpp"
#include "core/scenario_load.hpp"
#include "model/model_check.hpp"

using namespace stepq;

namespace {

Outcome outcome(const std::string& o) {
  if (o == "completed") return Outcome::completed();
  if (o == "failed") return Outcome::failed("model: failed");
  if (o == "retry") return Outcome::retry(0, "model: retry");
  if (o == "requeue") return Outcome::requeue(0);
  throw std::invalid_argument("unknown outcome " + o);
}

std::string answer(live::LiveStore& store, std::map<std::pair<std::uint64_t, std::uint64_t>, StepRef>& held,
                   const std::string& line, bool& stop) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  std::ostringstream out;
  if (cmd == "submit") {
    out << store.submit_session();
  } else if (cmd == "claim") {
    int pool = 0;
    in >> pool;
    if (auto s = store.claim(pool)) {
      held[{s->id, s->fence}] = *s;
      out << "S " << s->id << ' ' << s->fence << ' ' << s->session << ' ' << s->step << ' ' << s->attempt;
    } else {
      out << '-';
    }
  } else if (cmd == "finish") {
    std::uint64_t id = 0, fence = 0;
    std::string o;
    in >> id >> fence >> o;
    auto it = held.find({id, fence});
    if (it == held.end()) return "E not held: " + line;
    const bool ok = store.finish(it->second, outcome(o));
    held.erase(it);
    out << (ok ? 1 : 0);
  } else if (cmd == "cancel") {
    std::uint64_t id = 0;
    in >> id;
    const auto r = store.cancel_session(id);
    out << (r.what == live::CancelResult::What::cancelled ? "cancelled " : "finished ") << r.steps;
  } else if (cmd == "reap") {
    double lease = 0;
    in >> lease;
    out << store.reap(lease);
  } else if (cmd == "promote") {
    store.promote();
    out << "ok";
  } else if (cmd == "heartbeat") {
    out << (store.heartbeat() ? 1 : 0);
  } else if (cmd == "stop") {
    out << store.release_running();
    store.stop_processor("model: stop");
    stop = true;
  } else {
    return "E unknown command: " + line;
  }
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: stepq_model_agent DB_URL (run by the model check, tests/model/)\n";
    return 2;
  }
  try {
    auto store = live::open_store(argv[1], false);
    const Scenario sc = parse_scenario(test::model::kScenario, "model.json");  // the store keeps a reference
    store->bind(sc, 1.0);
    std::cout << "ready " << store->register_processor("model", getpid(), "front=1,back=1") << std::endl;
    std::map<std::pair<std::uint64_t, std::uint64_t>, StepRef> held;
    std::string line;
    bool stop = false;
    while (!stop && std::getline(std::cin, line)) {
      std::string reply;
      try {
        reply = answer(*store, held, line, stop);
      } catch (const std::exception& e) {
        reply = std::string("E ") + e.what();
      }
      for (char& c : reply)
        if (c == '\n') c = ' ';
      std::cout << reply << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "stepq_model_agent: " << e.what() << "\n";
    return 1;
  }
}
