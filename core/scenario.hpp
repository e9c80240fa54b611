// The scenario model: everything a run needs, already validated (see scenario_load.hpp).
//
// Indices, not names, link the parts (kind → pool, step → kind), so the hot paths of the
// simulator and the live engine never look up strings. Names are kept for output.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dist.hpp"
#include "plan.hpp"

namespace stepq {

// Which handler a kind runs (DESIGN §3). `work` = the step's cost is its service time.
enum class Op { work, image, storage, data, launch, poll };
std::string_view to_string(Op op);

struct RetrySpec {
  int max_attempts = 1;             // total attempts, ≥ 1
  double failure_probability = 0;   // per attempt, in [0, 1]
  double backoff_s = 0;             // delay before attempt 2
  double backoff_factor = 2;        // each later delay is this many times the previous one
  double backoff_before(int next_attempt) const;  // next_attempt ≥ 2
};

struct PollSpec {
  double interval_s = 5;  // WAITING between polls; no thread held
  Dist ready_after_s;     // how long after the step first becomes READY the external thing is ready
};

struct TransferSpec {
  std::string from, to;  // platform hosts; `bytes` of each step move from → to
};

struct KindSpec {
  std::string name;
  Op op = Op::work;
  int pool = -1;
  Dist service_s = Dist::constant(0);
  RetrySpec retry;
  std::optional<PollSpec> poll;
  std::optional<TransferSpec> transfer;
  std::optional<double> prepare_cost_s;  // the broker's own (hard-coded) estimate, if it differs
};

struct PoolSpec {
  std::string name;
  int threads = 1;
  std::vector<int> kinds;
};

struct LinkSpec {
  std::string name, from, to;
  double bandwidth_Bps = 0;
  double latency_s = 0;
};

struct PlatformSpec {
  std::vector<std::string> hosts;
  std::vector<LinkSpec> links;
  std::string local_root = "stepq-sessions";  // `local` platform: session directories go here
};

struct TemplateSpec {
  std::string name;
  double weight = 1;
  std::vector<PlanStep> steps;  // validated: a DAG, ids unique, kinds known
  Plan plan;                    // built from steps
  double total_prepare_cost_s = 0;
};

struct ArrivalSpec {
  enum class Process { poisson, periodic, trace } process = Process::poisson;
  double rate_per_s = 1;       // poisson, periodic
  std::vector<double> times;   // trace: arrival instants (s), sorted
  std::string trace_file;
  std::uint64_t burst = 0;     // sessions accepted at once at t = 0, before the process starts
};

struct DispatchSpec {
  enum class Mode { notify, poll } mode = Mode::notify;
  double poll_interval_s = 1;
  double claim_s = 0;
  enum class Dependencies { activate, recheck } dependencies = Dependencies::activate;
  double recheck_s = 5;
};

struct Scenario {
  std::string name;
  std::string file;  // where it was read from, for messages
  std::uint64_t seed = 1;
  std::optional<std::uint64_t> sessions;
  std::optional<double> duration_s;
  ArrivalSpec arrivals;
  DispatchSpec dispatch;
  std::vector<KindSpec> kinds;
  std::vector<PoolSpec> pools;
  std::vector<TemplateSpec> templates;
  PlatformSpec platform;

  int kind_index(std::string_view name) const;  // -1 if absent
  int template_index(std::string_view name) const;  // -1 if absent
  // The template session `index` uses: drawn from the session's own stream, so simulator and
  // live submit give the same session the same template.
  int template_for(std::uint64_t index) const;
  // The broker's queue-blind estimate for one step: its own prepare_cost_s, else the mean service
  // time plus transfer time at the link's bandwidth plus, for polls, the mean ready time.
  double prepare_cost(const PlanStep& step) const;
  const LinkSpec* link_between(std::string_view from, std::string_view to) const;
};

}  // namespace stepq
