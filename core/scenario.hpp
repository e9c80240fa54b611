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

// Which handler a kind runs (DESIGN §3). `work` = the step's cost is its service time. The
// first six prepare a session (its "steps"); delete, cleanup and pushback give back what it had
// (its "release" steps): delete frees the cluster's cores and memory, cleanup the session's
// WriteTemp storage, pushback moves its WriteGlobal output over the kind's transfer link. extend
// renews the lifetime of the replicas a session's rules staged, while it runs (a template's lease).
enum class Op { work, image, storage, data, launch, poll, remove, cleanup, pushback, extend };
std::string_view to_string(Op op);  // remove is "delete"
bool is_release_op(Op op);          // remove, cleanup, pushback

std::string_view to_string(Mount m);  // Mount: plan.hpp

struct RetrySpec {
  int max_attempts = 1;                           // total attempts, ≥ 1
  double failure_probability = 0;                 // per attempt, in [0, 1]
  double backoff_s = 0;                           // delay before attempt 2
  double backoff_factor = 2;                      // each later delay is this many times the previous one
  double backoff_before(int next_attempt) const;  // next_attempt ≥ 2
};

struct PollSpec {
  double interval_s = 5;  // WAITING between polls; no thread held
  Dist ready_after_s;     // how long after the step first becomes READY the external thing is ready
  // `"watch": "rules"`: ready when the transfers (Rucio rules) its data predecessors started are
  // done, not after ready_after_s.
  bool watch_rules = false;
};

struct TransferSpec {
  std::string from, to;  // platform hosts; `bytes` of each step move from → to (from: "" with replicas)
  // Where the kind's items have replicas, when the step does not say; empty: at `from`. A replica
  // at `to` is local: located and bind-mounted, nothing moves. Else the fastest route copies.
  std::vector<ReplicaChoice> replicas;
};

// Asynchronous staging, as SRCNet does it: the data step only submits a rule (its service time is
// the API call); the bytes start to move `delay_s` later (the judge and the conveyor's cycles)
// with no worker thread waiting, and a poll kind with `"watch": "rules"` sees when they are done.
struct RuleSpec {
  Dist delay_s;
};

struct KindSpec {
  std::string name;
  Op op = Op::work;
  int pool = -1;
  Dist service_s = Dist::constant(0);
  RetrySpec retry;
  std::optional<PollSpec> poll;
  std::optional<TransferSpec> transfer;
  std::optional<RuleSpec> rule;          // data kinds: submit a rule instead of moving the bytes
  std::optional<double> prepare_cost_s;  // the broker's own (hard-coded) estimate, if it differs
};

struct PoolSpec {
  std::string name;
  int threads = 1;
  std::vector<int> kinds;
};

// A network link. With `from` and `to` it is also the route between those hosts; without, it is
// a hop of declared routes. `max_active` is FTS's cap on transfers active on the link at once
// (0: none); the others wait first come, first served at the link.
struct LinkSpec {
  std::string name, from, to;
  double bandwidth_Bps = 0;
  double latency_s = 0;
  int max_active = 0;
};

// The links bytes cross between two hosts, in order (both directions). Every pair that can
// exchange bytes has one: the declared routes, and a link with from/to as a route of one hop.
struct RouteSpec {
  std::string from, to;
  std::vector<int> links;     // indices into PlatformSpec::links
  double latency_s = 0;       // summed over the hops
  double bottleneck_Bps = 0;  // the slowest hop's bandwidth
  double time_alone(double bytes) const { return latency_s + bytes / bottleneck_Bps; }
};

// A cluster behind the broker (a Skaha deployment's Kubernetes nodes). Sessions wait Pending
// until admitted (`fifo`: the oldest waiting request goes first and blocks those behind it, as
// Kueue's StrictFIFO; `backfill`: the first waiting request that fits goes) and placed first-fit
// over the nodes in order; a user may have at most `user_limit` sessions submitted and not yet
// deleted (Skaha's maxCount): the launch of one more is refused.
struct NodeGroup {
  int count = 1;
  double cores = 1, memory_GB = 1;  // per node
};
struct ClusterSpec {
  std::string name;
  std::vector<NodeGroup> nodes;
  enum class Admission { fifo, backfill } admission = Admission::fifo;
  int user_limit = 0;  // 0: none
  // A poll that finds its session Pending for longer than this fails it (and its release takes
  // it out of the queue): a broker gives up on a session that cannot start, and a run whose
  // capacity never comes back (a failed delete holds it) still ends.
  double max_pending_s = 3600;
  int node_count() const;
  double total_cores() const;
  double total_memory_GB() const;
};

// A storage area with a byte quota (Cavern, a Rucio staging area). A storage step that does not
// fit fails (`fail`, the kind's retries apply) or waits `recheck_s` and tries again (`wait`), for
// at most `max_wait_s` (WriteLocal space never comes back: without a limit such a run never ends).
struct StorageArea {
  std::string name;
  double quota_bytes = 0;
  enum class WhenFull { fail, wait } when_full = WhenFull::fail;
  double recheck_s = 30;
  double max_wait_s = 3600;  // wait: the storage step fails once it has waited this long
};

struct PlatformSpec {
  std::vector<std::string> hosts;
  std::vector<LinkSpec> links;
  std::vector<RouteSpec> routes;
  std::vector<ClusterSpec> clusters;
  std::vector<StorageArea> areas;
  std::string local_root = "stepq-sessions";                        // `local` platform: session directories go here
  int cluster_index(std::string_view name) const;                   // -1 if absent
  int area_index(std::string_view name) const;                      // -1 if absent
  int route_between(std::string_view a, std::string_view b) const;  // either direction; -1 if none
  // Where a copy to `to` comes from, given the hosts holding replicas: -1 when one of them is `to`
  // (a local replica, located and bind-mounted: nothing moves), else the route from the replica
  // whose route is fastest for `bytes` alone (Rucio ranks sources without looking at load).
  // `chosen`, if given, gets that host's index.
  int fastest_route(const std::vector<std::string>& hosts, const std::string& to, double bytes,
                    std::size_t* chosen = nullptr) const;
};

// What a session asks of its cluster and how long it runs once Running (then it ends and its
// release steps start). Drawn per session from its own stream.
struct SessionSpec {
  int cluster = -1;  // -1: no cluster (run_s still decides when release starts)
  Dist cores = Dist::constant(1), memory_GB = Dist::constant(1);
  Dist run_s;
};

// Replicas staged by rules live `lifetime_s` (Rucio's rule lifetime); a session that runs longer
// needs them extended. While it runs, a step of `kind` (op extend) renews them every `every_s`,
// counted from its start; a renewal later than `lifetime_s` after the one before is late (the
// replicas could have been deleted under the session).
struct LeaseSpec {
  int kind = -1;
  double every_s = 0, lifetime_s = 0;
};

struct TemplateSpec {
  std::string name;
  double weight = 1;
  // The start-up steps [0, startup_steps), then the release steps: validated, each group a DAG
  // of its own (a release step waits only for release steps), ids unique, kinds known.
  std::vector<PlanStep> steps;
  int startup_steps = 0;
  Plan plan;          // the start-up DAG, over steps [0, startup_steps)
  Plan release_plan;  // the release DAG, numbered from startup_steps like `steps`
  std::optional<SessionSpec> session;
  std::optional<LeaseSpec> lease;
  int lease_step = -1;      // with a lease: its step, after the release steps, in neither plan
  double output_bytes = 0;  // Σ output_bytes of WriteGlobal items: what pushback steps move
  double total_prepare_cost_s = 0;
  bool has_release() const { return release_end() > startup_steps; }
  int release_end() const { return lease_step >= 0 ? lease_step : static_cast<int>(steps.size()); }
  bool clustered() const { return session && session->cluster >= 0; }
  // Step i's predecessors and successors, from the plan it belongs to.
  const std::vector<int>& preds(int i) const { return (i < startup_steps ? plan : release_plan).preds[i]; }
  const std::vector<int>& succs(int i) const { return (i < startup_steps ? plan : release_plan).succs[i]; }
};

// Who sessions belong to: `count` users, session i's user drawn from its own stream with
// probability ∝ 1 (uniform) or ∝ rank^−zipf_s (Zipf: a few users submit most sessions).
struct UsersSpec {
  std::uint64_t count = 1;
  double zipf_s = 0;        // 0: uniform
  std::vector<double> cdf;  // Zipf: cumulative probabilities by rank, built by the loader
  std::uint64_t user_of(std::uint64_t seed, std::uint64_t session) const;
};

struct ArrivalSpec {
  enum class Process { poisson, periodic, trace } process = Process::poisson;
  double rate_per_s = 1;      // poisson, periodic
  std::vector<double> times;  // trace: arrival instants (s), sorted
  std::string trace_file;
  std::uint64_t burst = 0;  // sessions accepted at once at t = 0, before the process starts
  std::optional<UsersSpec> users;
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

  int kind_index(std::string_view name) const;      // -1 if absent
  int template_index(std::string_view name) const;  // -1 if absent
  // The template session `index` uses: drawn from the session's own stream, so simulator and
  // live submit give the same session the same template.
  int template_for(std::uint64_t index) const;
  // The broker's queue-blind estimate for one step: its own prepare_cost_s, else the mean service
  // time plus transfer time at the link's bandwidth (none for a ReadOnly data item: it is
  // linked, not copied) plus, for polls, the mean ready time.
  double prepare_cost(const PlanStep& step) const;
  // Where step `step` of template `tmpl` copies its bytes from, for session `key`
  // (rng.hpp session_key): the route of the replica that is fastest alone, or -1 when a replica
  // is local (nothing to move), and the bytes it moves (a size drawn per session). The same in
  // both modes: it depends only on the session's streams.
  struct Source {
    int route = -1;
    std::string host;  // the replica chosen (the local one when route is -1)
    double bytes = 0;
  };
  Source source(int tmpl, int step, std::uint64_t key) const;
  // A step of an item with a `count` that this session does not have (its copy number is at or
  // beyond the count drawn for it): it completes at once, costing nothing.
  bool absent(const PlanStep& step, std::uint64_t key) const;
};

}  // namespace stepq
