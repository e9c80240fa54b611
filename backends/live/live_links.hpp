// The live `emulated` platform's network (core/interfaces.hpp Transfers): the links' transfers
// live in the database (LiveStore::with_links, core/fluid_links.hpp), so that processes on one
// database share every link and every FTS slot. A transfer that holds its thread waits here until
// its last byte has arrived; a rule's transfer has nobody waiting.
//
// Nothing in the database moves by itself, so one thread per process, the ticker, advances the
// network whenever the next thing in it is due (a finish, a rule's delay or a latency ending) and
// wakes the threads whose transfers are done. It also looks every 50 ms while anything moves:
// transfers another process started since are not in its schedule yet.
#pragma once
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include "core/interfaces.hpp"
#include "store.hpp"

namespace stepq::live {

class LiveLinks final : public Transfers {
 public:
  // `store` must be bound; `time_scale`: wall seconds per model second.
  LiveLinks(LiveStore& store, double time_scale);
  ~LiveLinks() override;

  void transfer(const StepContext& c, int route, double bytes) override;
  void start_rule(const StepContext& c, int route, double bytes, double delay_s) override;
  bool rule_done(const StepContext& c, int step) override;
  void located(const StepContext&) override {}

 private:
  using Key = std::tuple<std::int64_t, int, int>;  // session, step, attempt
  void ticker();

  LiveStore& store_;
  double scale_;
  std::mutex mu_;
  std::condition_variable done_, wake_;
  // Transfers this process's threads wait for, by the order they were registered in: the ticker
  // decides "done" only from an advance that began after the registration (after the insert).
  std::map<Key, std::uint64_t> waiting_;
  std::uint64_t seq_ = 0;
  bool kicked_ = false, stop_ = false;
  std::string error_;  // the ticker's database failed: waiting threads fail with this
  std::thread thread_;
};

}  // namespace stepq::live
