// What `stepq calibrate` keeps of the execution log as it streams past (store.hpp HistorySink):
// per kind, counts, a uniform sample of service times of bounded size, failures per attempt and,
// for poll kinds, each polled step's looks; and the emulated platform's finished transfers.
// Memory is bounded by the sample size per kind, the number of polled steps and of transfers,
// not by the length of the log.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backends/live/store.hpp"
#include "core/rng.hpp"
#include "core/scenario.hpp"
#include "core/transfer_fit.hpp"

namespace stepq {

struct KindLog {
  std::size_t executions = 0;   // rows of this kind
  std::size_t ran = 0;          // executions that ran to an end with a positive duration
  std::vector<double> service;  // a uniform sample (reservoir) of those durations, scenario seconds
  std::size_t attempts = 0, failures = 0;
  // Poll kinds: (step, attempt) → ready time lies in (last_not_ready, ready], seconds from
  // activation, or from admission on a cluster (where the platform's clock starts).
  struct Looks {
    double last_not_ready = 0, ready = -1;
  };
  std::map<std::pair<std::int64_t, int>, Looks> looks;
};

class KindLogs final : public live::HistorySink {
 public:
  // Fits see at most this many service times a kind: the standard error of a mean from 200,000
  // draws is 0.2% of the spread, far below what the fits are checked to.
  static constexpr std::size_t kMaxSamples = 200000;
  KindLogs(const Scenario& base, double time_scale);
  void execution(const live::History::Execution& e) override;
  void transfer(const live::History::Transfer& t) override;
  void session_run(const std::string& tmpl, double run) override;
  void rule_delay(const std::string& kind, double delay) override;
  void restart() override;
  std::map<std::string, KindLog> kinds;
  std::vector<TransferObs> transfers;                 // scenario seconds; 32 bytes each
  std::map<std::string, std::vector<double>> runs;    // template → run times, scenario seconds
  std::map<std::string, std::vector<double>> delays;  // rule kind → rule delays, scenario seconds

 private:
  std::map<std::string, bool> polls_, rules_;  // kind → looks are kept; kind → its delays are
  double scale_;
  std::size_t routes_;
  Stream rng_{1};
};

// Threads per pool over the processors that ran: each pool's thread-seconds over the time any
// processor was alive (`pools` as registered: "name=threads,…").
std::map<std::string, double> mean_threads(const std::vector<live::History::Processor>& processors);

}  // namespace stepq
