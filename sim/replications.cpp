#include "replications.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "core/confidence.hpp"
#include "core/rng.hpp"
#include "isolated.hpp"
#include "reports/log_bins.hpp"
#include "reports/progress.hpp"

namespace stepq::sim {

namespace {
using ojson = nlohmann::ordered_json;

std::vector<double> column(const std::vector<ojson>& runs, const std::function<const ojson&(const ojson&)>& at) {
  std::vector<double> v;
  for (const auto& r : runs) {
    const ojson& x = at(r);
    if (x.is_number()) v.push_back(x.get<double>());
  }
  return v;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

ojson interval(const std::vector<double>& v) {
  const Interval i = ci95(v);
  return ojson::array({i.lo, i.hi});
}

// Averages the summary statistics at `path` (mean, p50, …), keeps the largest max, and adds
// 95% intervals for the mean and the p95.
void combine_summary(ojson& out, const std::vector<ojson>& runs, const ojson::json_pointer& path) {
  ojson& o = out[path];
  for (auto& [key, val] : o.items()) {
    if (!val.is_number()) continue;
    const auto col = column(runs, [&](const ojson& r) -> const ojson& { return r[path][key]; });
    if (key == "max") {
      double m = 0;
      for (double x : col) m = std::max(m, x);
      val = m;
    } else {
      val = mean_of(col);
    }
  }
  o["ci95"] = ojson::object();
  for (const char* q : {"mean", "p50", "p95", "p99"})
    o["ci95"][q] = interval(column(runs, [&](const ojson& r) -> const ojson& { return r[path][q]; }));
}

// Counts add up over replications; settings such as `threads` are the same in each.
void sum_counts(ojson& out, const std::vector<ojson>& runs, const ojson::json_pointer& path) {
  for (auto& [key, val] : out[path].items())
    if (val.is_number_unsigned() && key != "threads") {
      std::uint64_t s = 0;
      for (const auto& r : runs) s += r[path][key].get<std::uint64_t>();
      val = s;
    }
}

void average(ojson& out, const std::vector<ojson>& runs, const ojson::json_pointer& p) {
  out[p] = mean_of(column(runs, [&](const ojson& r) -> const ojson& { return r[p]; }));
}
}  // namespace

std::uint64_t replication_seed(std::uint64_t base, int r) {
  return r == 0 ? base : derive(base, static_cast<std::uint64_t>(r));
}

ojson combine_replications(const std::vector<ojson>& runs) {
  ojson out = runs.front();
  out["replications"] = runs.size();
  ojson seeds = ojson::array();
  for (const auto& r : runs) seeds.push_back(r["seed"]);
  out["replication_seeds"] = seeds;
  sum_counts(out, runs, "/sessions"_json_pointer);
  average(out, runs, "/sessions/interarrival_s_mean"_json_pointer);
  if (out.contains("leases")) sum_counts(out, runs, "/leases"_json_pointer);
  combine_summary(out, runs, "/startup_s"_json_pointer);
  ojson bins = runs.front()["startup_s"]["histogram"];
  for (std::size_t i = 1; i < runs.size(); ++i) bins = add_log_bins(bins, runs[i]["startup_s"]["histogram"]);
  out["startup_s"]["histogram"] = bins;
  // Series over time do not average across replications (their bins differ): the first is shown.
  out["timeline"]["replication"] = 0;
  average(out, runs, "/prepare_cost_s/mean"_json_pointer);
  if (out["startup_s"].contains("split"))
    for (const char* k : {"pending", "queue_wait", "service", "other"})
      average(out, runs, "/startup_s/split"_json_pointer / k);
  if (out.contains("clusters"))
    for (auto& [name, c] : out["clusters"].items()) {
      const auto base = ojson::json_pointer("/clusters") / name;
      for (const char* k : {"submitted", "admitted", "refused"}) {
        std::uint64_t sum = 0;
        for (const auto& r : runs) sum += r[base / k].get<std::uint64_t>();
        c[k] = sum;
      }
      combine_summary(out, runs, base / "pending_s");
      average(out, runs, base / "queue" / "mean");
      std::uint64_t most = 0;
      for (const auto& r : runs) most = std::max(most, r[base / "queue" / "max"].get<std::uint64_t>());
      c["queue"]["max"] = most;
      average(out, runs, base / "utilization" / "cores");
      average(out, runs, base / "utilization" / "memory");
    }
  if (out.contains("links"))
    for (auto& [name, l] : out["links"].items()) {
      const auto base = ojson::json_pointer("/links") / name;
      std::uint64_t n = 0;
      double bytes = 0;
      for (const auto& r : runs)
        n += r[base / "transfers"].get<std::uint64_t>(), bytes += r[base / "bytes"].get<double>();
      l["transfers"] = n;
      l["bytes"] = bytes;
      combine_summary(out, runs, base / "transfer_s");
      combine_summary(out, runs, base / "queue_wait_s");
      for (const char* k : {"throughput_MBps", "utilization"}) average(out, runs, base / k);
      for (const char* k : {"queue", "active"}) {
        average(out, runs, base / k / "mean");
        std::uint64_t most = 0;
        for (const auto& r : runs) most = std::max(most, r[base / k / "max"].get<std::uint64_t>());
        l[k]["max"] = most;
      }
    }
  // Warm-up is decided per replication: what each dropped and why, in replication order.
  ojson& wu = out["warmup"];
  wu.erase("reason");
  wu.erase("contrast");
  wu["sessions_dropped"] = 0;
  for (const char* k : {"per_replication", "reasons", "contrasts"}) wu[k] = ojson::array();
  for (const auto& r : runs) {
    wu["sessions_dropped"] =
        wu["sessions_dropped"].get<std::uint64_t>() + r["warmup"]["sessions_dropped"].get<std::uint64_t>();
    wu["per_replication"].push_back(r["warmup"]["sessions_dropped"]);
    wu["reasons"].push_back(r["warmup"]["reason"]);
    if (r["warmup"].contains("contrast")) wu["contrasts"].push_back(r["warmup"]["contrast"]);
  }
  if (wu["contrasts"].empty()) wu.erase("contrasts");
  for (auto& [name, k] : out["kinds"].items()) {
    const auto base = ojson::json_pointer("/kinds") / name;
    sum_counts(out, runs, base);
    if (out[base].contains("replicas")) sum_counts(out, runs, base / "replicas");
    combine_summary(out, runs, base / "wait_s");
    average(out, runs, base / "service_s" / "mean");
    average(out, runs, base / "service_s" / "p95");
    average(out, runs, base / "utilization");
  }
  for (auto& [name, p] : out["pools"].items()) {
    const auto base = ojson::json_pointer("/pools") / name;
    sum_counts(out, runs, base);
    average(out, runs, base / "utilization");
  }
  // Failure reasons: the union, with counts summed.
  ojson reasons = ojson::array();
  std::uint64_t count = 0;
  for (const auto& r : runs) {
    count += r["failures"]["count"].get<std::uint64_t>();
    for (const auto& e : r["failures"]["reasons"]) {
      auto it =
          std::find_if(reasons.begin(), reasons.end(), [&](const ojson& x) { return x["reason"] == e["reason"]; });
      if (it != reasons.end())
        (*it)["sessions"] = (*it)["sessions"].get<std::uint64_t>() + e["sessions"].get<std::uint64_t>();
      else if (reasons.size() < 5) reasons.push_back(e);
    }
  }
  out["failures"] = {{"count", count}, {"reasons", reasons}};
  average(out, runs, "/run/simulated_s"_json_pointer);
  return out;
}

Replications run_each(const Scenario& sc, const SimOptions& opt, const ReplicationPlan& plan) {
  const int jobs = child_jobs(plan.jobs);
  const bool adaptive = plan.precision > 0;
  const int first = adaptive ? std::max(plan.replications, 3) : plan.replications;
  const int most = adaptive ? std::max(first, plan.max_replications) : first;
  Progress progress("replications", adaptive ? "done (until the precision is reached)" : "done", adaptive ? 0 : first,
                    opt.progress);

  std::vector<std::optional<ojson>> results(most);
  std::string error;
  std::mutex mu;
  int done = 0;
  // Runs replications [from, to) on `jobs` threads, each forking one simulation at a time.
  auto run_range = [&](int from, int to) {
    std::atomic<int> next{from};
    run_children(std::min(jobs, to - from), [&] {
      for (int r; (r = next++) < to;) {
        {
          std::lock_guard<std::mutex> l(mu);
          if (!error.empty()) return;
        }
        Scenario one = sc;
        one.seed = replication_seed(sc.seed, r);
        SimOptions o = opt;
        o.progress = false;
        try {
          ojson res = run_isolated(one, o);
          std::lock_guard<std::mutex> l(mu);
          results[r] = std::move(res);
          progress.update(static_cast<std::uint64_t>(++done));
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> l(mu);
          if (error.empty())
            error = "replication " + std::to_string(r) + " (seed " + std::to_string(one.seed) + "): " + e.what();
        }
      }
    });
    if (!error.empty()) throw std::runtime_error(error);
  };

  // The stopping rule is checked on every prefix in order, so where it stops does not depend on
  // how many replications happened to run in parallel.
  auto relative_width = [&](int n) {
    std::vector<ojson> prefix;
    for (int i = 0; i < n; ++i) prefix.push_back(*results[i]);
    const ojson c = combine_replications(prefix);
    double w = 0;
    for (const char* k : {"mean", "p95"}) {
      const double m = c["startup_s"][k], lo = c["startup_s"]["ci95"][k][0], hi = c["startup_s"]["ci95"][k][1];
      w = std::max(w, m != 0 ? (hi - lo) / 2 / std::fabs(m) : 0.0);
    }
    return w;
  };

  int ran = first;
  run_range(0, first);
  int used = first;
  bool met = !adaptive;
  if (adaptive) {
    for (int n = first;; ++n) {
      if (n > ran) {
        const int upto = std::min(most, ran + jobs);
        run_range(ran, upto);
        ran = upto;
      }
      if (relative_width(n) <= plan.precision) {
        used = n, met = true;
        break;
      }
      if (n == most) {
        used = n;
        break;
      }
    }
  }
  progress.done();

  Replications out;
  for (int i = 0; i < used; ++i) out.runs.push_back(*results[i]);
  if (adaptive) {
    out.stopping = {{"rule", "precision"},
                    {"target", plan.precision},
                    {"met", met},
                    {"relative_half_width", relative_width(used)},
                    {"max_replications", most},
                    {"reason", met ? "the 95% intervals of the mean and p95 start-up reached the target"
                                   : "max_replications reached before the target precision"}};
  }
  return out;
}

ojson run_replications(const Scenario& sc, const SimOptions& opt, const ReplicationPlan& plan) {
  const auto wall0 = std::chrono::steady_clock::now();
  const Replications each = run_each(sc, opt, plan);
  ojson out = combine_replications(each.runs);
  if (!each.stopping.is_null()) out["stopping"] = each.stopping;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::uint64_t claims = 0;
  for (const auto& [n, k] : out["kinds"].items()) claims += k["claims"].get<std::uint64_t>();
  out["run"]["wall_s"] = wall;
  out["run"]["steps_per_wall_s"] = wall > 0 ? static_cast<double>(claims) / wall : 0.0;
  return out;
}

}  // namespace stepq::sim
