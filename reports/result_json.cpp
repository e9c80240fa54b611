#include "result_json.hpp"

#include <cmath>

#include "log_bins.hpp"
#include "timeline.hpp"

namespace stepq {

namespace {
using ojson = nlohmann::ordered_json;

ojson summary(const Histogram& h, bool with_p90) {
  ojson j;
  j["mean"] = h.mean();
  j["p50"] = h.quantile(0.50);
  if (with_p90) j["p90"] = h.quantile(0.90);
  j["p95"] = h.quantile(0.95);
  j["p99"] = h.quantile(0.99);
  j["max"] = h.max();
  return j;
}
ojson rounded3(const std::vector<double>& v) {
  ojson a = ojson::array();
  for (double x : v) a.push_back(std::round(x * 1000) / 1000);
  return a;
}
}  // namespace

ojson result_json(const Scenario& sc, const RunStats& st) {
  ojson r;
  r["scenario"] = sc.name;
  r["seed"] = sc.seed;
  r["replications"] = 1;
  r["sessions"] = {{"arrived", st.arrived}, {"started", st.started}, {"failed", st.failed}};
  r["sessions"]["interarrival_s_mean"] = st.interarrival_s_mean;  // observed mean gap between arrivals
  bool releases = false;
  for (const auto& t : sc.templates) releases = releases || t.has_release();
  if (releases) {  // sessions whose release steps all completed; a failed release holds what it had
    r["sessions"]["completed"] = st.completed;
    r["sessions"]["release_failed"] = st.release_failed;
  }
  bool leases = false;
  for (const auto& t : sc.templates) leases = leases || t.lease.has_value();
  if (leases) r["leases"] = {{"extensions", st.lease_extensions}, {"late", st.lease_late}, {"failed", st.lease_failed}};
  r["startup_s"] = summary(st.startup_s, true);
  r["startup_s"]["histogram"] = log_bins_json(st.startup_s);
  // Where start-up went (means over started sessions, critical path): they add up to its mean.
  const double started = static_cast<double>(st.startup_s.count());
  auto per = [&](double sum) { return started > 0 ? sum / started : 0.0; };
  r["startup_s"]["split"] = {{"pending", per(st.split.pending)},
                             {"queue_wait", per(st.split.wait)},
                             {"service", per(st.split.service)},
                             {"other", per(st.split.other)}};
  r["warmup"] = {{"method", st.warmup_method}, {"sessions_dropped", st.warmup_dropped}, {"reason", st.warmup_reason}};
  if (st.warmup_method == "auto") r["warmup"]["contrast"] = st.warmup_contrast;  // inf (a constant kept part) → null
  r["prepare_cost_s"] = {{"mean", st.arrived ? st.prepare_cost_sum / static_cast<double>(st.arrived) : 0.0}};
  const double T = st.simulated_s;
  std::uint64_t claims = 0;
  const bool polling = sc.dispatch.mode == DispatchSpec::Mode::poll;
  ojson kinds = ojson::object();
  for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
    const KindSpec& ks = sc.kinds[k];
    const KindStats& s = st.kinds[k];
    const PoolSpec& pool = sc.pools[ks.pool];
    const PoolStats& ps = st.pools[ks.pool];
    claims += s.claims;
    ojson j;
    j["pool"] = pool.name;
    j["threads"] = pool.threads;
    j["steps"] = s.steps;
    j["completed"] = s.completed;
    j["failed"] = s.failed;
    j["cancelled"] = s.cancelled;
    j["wait_s"] = summary(s.wait_s, false);
    j["service_s"] = {{"mean", s.service_s.mean()}, {"p95", s.service_s.quantile(0.95)}};
    // The kind's share of its pool's thread-seconds.
    j["utilization"] = T > 0 ? s.service_s.sum() / (pool.threads * T) : 0.0;
    j["claims"] = s.claims;
    // Of the kind's pool: an empty claim belongs to no kind. Only polling threads make them on
    // purpose; a notified thread's one look after each step finds the queue empty as a rule.
    if (polling) j["empty_polls"] = ps.empty_polls;
    j["requeues"] = s.requeues;
    j["retries"] = s.retries;
    j["lost_leases"] = s.lost;
    if (ks.transfer) j["replicas"] = {{"local", s.located}, {"copied", s.copied}};  // local: located, nothing moved
    kinds[ks.name] = j;
  }
  r["kinds"] = kinds;
  ojson pools = ojson::object();
  for (std::size_t p = 0; p < sc.pools.size(); ++p) {
    ojson kn = ojson::array();
    for (int k : sc.pools[p].kinds) kn.push_back(sc.kinds[k].name);
    pools[sc.pools[p].name] = {{"threads", sc.pools[p].threads}, {"kinds", kn}, {"claims", st.pools[p].claims}};
    if (polling) pools[sc.pools[p].name]["empty_polls"] = st.pools[p].empty_polls;
    pools[sc.pools[p].name]["utilization"] = T > 0 ? st.pools[p].busy_s / (sc.pools[p].threads * T) : 0.0;
  }
  r["pools"] = pools;
  if (!sc.platform.clusters.empty()) {
    ojson clusters = ojson::object();
    for (std::size_t c = 0; c < sc.platform.clusters.size(); ++c) {
      const ClusterSpec& cl = sc.platform.clusters[c];
      const ClusterStats& cs = st.clusters[c];
      ojson j;
      j["nodes"] = cl.node_count();
      j["cores"] = cl.total_cores();
      j["memory_GB"] = cl.total_memory_GB();
      j["admission"] = cl.admission == ClusterSpec::Admission::fifo ? "fifo" : "backfill";
      if (cl.user_limit > 0) j["user_limit"] = cl.user_limit;
      j["submitted"] = cs.submitted;
      j["admitted"] = cs.admitted;
      j["refused"] = cs.refused;
      j["pending_s"] = summary(cs.pending_s, false);
      j["queue"] = {{"mean", T > 0 ? cs.queued_s / T : 0.0}, {"max", cs.max_queue}};
      j["utilization"] = {{"cores", T > 0 ? cs.cores_s / (cl.total_cores() * T) : 0.0},
                          {"memory", T > 0 ? cs.memory_GB_s / (cl.total_memory_GB() * T) : 0.0}};
      clusters[cl.name] = j;
    }
    r["clusters"] = clusters;
  }
  if (!sc.platform.links.empty() && st.links.size() == sc.platform.links.size()) {
    ojson links = ojson::object();
    for (std::size_t l = 0; l < sc.platform.links.size(); ++l) {
      const LinkSpec& ls = sc.platform.links[l];
      const LinkStats& s = st.links[l];
      ojson j;
      j["bandwidth_MBps"] = ls.bandwidth_Bps / 1e6;
      j["latency_s"] = ls.latency_s;
      if (ls.max_active > 0) j["max_active"] = ls.max_active;
      j["transfers"] = s.transfers;
      j["bytes"] = s.bytes;
      j["throughput_MBps"] = T > 0 ? s.bytes / T / 1e6 : 0.0;
      j["utilization"] = T > 0 ? s.busy_s / T : 0.0;  // the share of time it carried a transfer
      j["transfer_s"] = summary(s.transfer_s, false);
      j["queue_wait_s"] = summary(s.queue_s, false);
      j["queue"] = {{"mean", T > 0 ? s.queued_s / T : 0.0}, {"max", s.max_queue}};
      j["active"] = {{"mean", T > 0 ? s.active_s / T : 0.0}, {"max", s.max_active}};
      links[ls.name] = j;
    }
    r["links"] = links;
  }
  std::vector<std::string> pool_names;
  for (const auto& p : sc.pools) pool_names.push_back(p.name);
  r["timeline"] = timeline_json(st.timeline, "pool", pool_names);
  if (!sc.platform.clusters.empty()) {  // two series per cluster after the pools' (core/stats.hpp)
    const auto& rounded = rounded3;
    ojson tc = ojson::object();
    for (std::size_t c = 0; c < sc.platform.clusters.size(); ++c) {
      const std::size_t i = sc.pools.size() + 2 * c;
      if (i + 1 >= st.timeline.ready.size()) break;
      tc[sc.platform.clusters[c].name] = {{"queued", rounded(st.timeline.ready[i])},
                                          {"cores", rounded(st.timeline.busy[i])},
                                          {"memory_GB", rounded(st.timeline.ready[i + 1])},
                                          {"refused", rounded(st.timeline.busy[i + 1])}};
    }
    r["timeline"]["clusters"] = tc;
  }
  if (!sc.platform.links.empty()) {  // two series per link after the clusters' (core/stats.hpp)
    ojson tl = ojson::object();
    for (std::size_t l = 0; l < sc.platform.links.size(); ++l) {
      const std::size_t i = sc.pools.size() + 2 * sc.platform.clusters.size() + 2 * l;
      if (i + 1 >= st.timeline.ready.size()) break;
      tl[sc.platform.links[l].name] = {{"queued", rounded3(st.timeline.ready[i])},
                                       {"active", rounded3(st.timeline.busy[i])},
                                       {"MBps", rounded3(st.timeline.ready[i + 1])}};
    }
    r["timeline"]["links"] = tl;
  }
  ojson reasons = ojson::array();
  for (const auto& [why, n] : st.failure_reasons) reasons.push_back({{"reason", why}, {"sessions", n}});
  r["failures"] = {{"count", st.failure_reason_count}, {"reasons", reasons}};
  r["run"] = {{"simulated_s", T},
              {"wall_s", st.wall_s},
              {"steps_per_wall_s", st.wall_s > 0 ? static_cast<double>(claims) / st.wall_s : 0.0}};
  return r;
}

}  // namespace stepq
