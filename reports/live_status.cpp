#include "live_status.hpp"

#include <algorithm>
#include <cstdio>

#include "core/phase.hpp"
#include "log_bins.hpp"
#include "timeline.hpp"

namespace stepq {

namespace {

nlohmann::ordered_json dist(const Histogram& h, double scale) {
  nlohmann::ordered_json j;
  j["count"] = h.count();
  j["mean"] = h.mean() / scale;
  j["p50"] = h.quantile(0.50) / scale;
  j["p95"] = h.quantile(0.95) / scale;
  j["p99"] = h.quantile(0.99) / scale;
  j["max"] = h.max() / scale;
  return j;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return b;
}

// The execution log's levels over time, in model seconds since the first READY step, up to the
// last thing that happened (now, if a step is still READY or running).
nlohmann::ordered_json timeline(const live::LiveStatus& st, double scale) {
  const auto& b = st.over_time;
  const double t0 = b.empty() ? st.now : b.first(), end = b.empty() ? st.now : b.last();
  std::vector<std::string> names;
  for (const auto& k : st.kinds) names.push_back(k.name);
  auto j = timeline_json(b.series(t0, end, scale), "kind", names);
  j["end_s"] = (end - t0) / scale;  // the last bin ends here, often before a whole bin_s
  return j;
}

}  // namespace

nlohmann::ordered_json live_status_json(const live::LiveStatus& st, double scale) {
  nlohmann::ordered_json j;
  j["time_scale"] = scale;
  for (const auto& [phase, n] : st.sessions) j["sessions"][phase] = n;
  j["startup_s"] = dist(st.startup_s, scale);
  j["startup_s"]["histogram"] = log_bins_json(st.startup_s);  // bins of wall seconds, edges scaled below
  for (auto& e : j["startup_s"]["histogram"]["edges_s"]) e = e.get<double>() / scale;
  j["kinds"] = nlohmann::ordered_json::object();
  for (const auto& k : st.kinds) {
    auto& o = j["kinds"][k.name];
    for (Phase p : kAllPhases) o["steps"][std::string(to_string(p))] = k.steps[static_cast<std::size_t>(p)];
    o["wait_s"] = dist(k.wait_s, scale);
    o["service_s"] = dist(k.service_s, scale);
    o["executions"] = k.executions;
    o["retries"] = k.retries;
    o["lost"] = k.lost;
    o["reaped"] = k.reaped;
  }
  j["processors"] = nlohmann::ordered_json::array();
  for (const auto& p : st.processors) {
    nlohmann::ordered_json o;
    o["id"] = p.id;
    o["host"] = p.host;
    o["pid"] = p.pid;
    o["pools"] = p.pools;
    o["state"] = p.stopped_at ? "stopped" : "running";
    o["heartbeat_age_s"] = st.now - p.heartbeat_at;  // wall seconds: this is about the machine
    o["running"] = p.running;
    o["reconnects"] = p.reconnects;
    if (p.stopped_at) o["stop_reason"] = p.stop_reason;
    j["processors"].push_back(o);
  }
  j["failures"]["reasons"] = nlohmann::ordered_json::object();
  for (const auto& [r, n] : st.failure_reasons) j["failures"]["reasons"][r] = n;
  if (!st.links.empty()) {  // the emulated platform moved bytes over links
    auto& links = j["links"] = nlohmann::ordered_json::object();
    for (const auto& l : st.links)
      links[l.name] = {{"transfers", l.transfers},
                       {"MB", l.bytes / 1e6},
                       {"moving", l.moving},
                       {"waiting", l.waiting},
                       {"transfer_s", dist(l.transfer_s, scale)},
                       {"slot_wait_s", dist(l.slot_wait_s, scale)}};
  }
  if (st.forecasts.count > 0) {  // forecasts were recorded: what happened beside them
    const auto median = [](std::vector<double> v) -> nlohmann::ordered_json {
      if (v.empty()) return nullptr;
      std::sort(v.begin(), v.end());
      const std::size_t n = v.size();
      return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    const auto& f = st.forecasts;
    j["forecasts"] = {{"count", f.count},
                      {"within_p95", f.within_p95},
                      {"within_p95_fraction", static_cast<double>(f.within_p95) / static_cast<double>(f.count)},
                      {"startup_vs_p50_median", median(f.vs_p50)},
                      {"startup_vs_queue_blind_median", median(f.vs_queue_blind)}};
  }
  j["submissions_active"] = st.submissions_active;
  j["timeline"] = timeline(st, scale);
  return j;
}

void print_live_status(std::ostream& out, const nlohmann::ordered_json& j, const TermStyle& style) {
  char b[256];
  out << style.bold("sessions:");
  for (const auto& [phase, n] : j["sessions"].items()) {
    const std::string text = phase + " " + std::to_string(n.get<std::uint64_t>());
    out << "  " << (phase == "FAILED" && n.get<std::uint64_t>() > 0 ? style.red(text) : text);
  }
  if (j["submissions_active"].get<int>() > 0) out << "  (a submission is still running)";
  out << "\n";
  const auto& s = j["startup_s"];
  if (s["count"].get<std::uint64_t>() > 0)
    out << "start-up" << (j["time_scale"].get<double>() != 1 ? " (model s)" : " (s)") << ":  p50 " << fmt(s["p50"])
        << "  p95 " << fmt(s["p95"]) << "  p99 " << fmt(s["p99"]) << "  mean " << fmt(s["mean"]) << "  over "
        << s["count"].get<std::uint64_t>() << " completed sessions\n";
  else out << "start-up: no session has completed yet\n";

  // Two tables, steps by phase and then timing, so that each fits 100 columns.
  out << "\n" << style.bold("Steps by phase") << "\n";
  std::snprintf(b, sizeof b, "  %-20s %8s %8s %8s %8s %10s %8s %10s\n", "kind", "DORMANT", "WAITING", "READY",
                "RUNNING", "COMPLETED", "FAILED", "CANCELLED");
  out << b;
  for (const auto& [name, k] : j["kinds"].items()) {
    const auto& st = k["steps"];
    std::snprintf(b, sizeof b, "  %-20s %8llu %8llu %8llu %8llu %10llu %8llu %10llu\n", name.substr(0, 20).c_str(),
                  st["DORMANT"].get<unsigned long long>(), st["WAITING"].get<unsigned long long>(),
                  st["READY"].get<unsigned long long>(), st["RUNNING"].get<unsigned long long>(),
                  st["COMPLETED"].get<unsigned long long>(), st["FAILED"].get<unsigned long long>(),
                  st["CANCELLED"].get<unsigned long long>());
    out << b;
  }
  out << "\n" << style.bold("Executions") << " (wait = READY -> claimed; service = claimed -> finished)\n";
  std::snprintf(b, sizeof b, "  %-20s %9s %9s %9s %9s %10s %7s %6s %6s\n", "kind", "wait mean", "wait p95", "svc mean",
                "svc p95", "executions", "retries", "lost", "reaped");
  out << b;
  for (const auto& [name, k] : j["kinds"].items()) {
    std::snprintf(b, sizeof b, "  %-20s %9s %9s %9s %9s %10llu %7llu %6llu %6llu\n", name.substr(0, 20).c_str(),
                  fmt(k["wait_s"]["mean"]).c_str(), fmt(k["wait_s"]["p95"]).c_str(),
                  fmt(k["service_s"]["mean"]).c_str(), fmt(k["service_s"]["p95"]).c_str(),
                  k["executions"].get<unsigned long long>(), k["retries"].get<unsigned long long>(),
                  k["lost"].get<unsigned long long>(), k["reaped"].get<unsigned long long>());
    out << b;
  }
  if (!j["processors"].empty()) {
    out << "\n";
    std::snprintf(b, sizeof b, "%-5s %-20s %8s %-9s %13s %7s  %s\n", "proc", "host", "pid", "state", "heartbeat",
                  "running", "pools");
    out << b;
    for (const auto& p : j["processors"]) {
      std::string pools = p["pools"].get<std::string>();
      if (pools.size() > 30) pools = pools.substr(0, 29) + "~";
      std::snprintf(b, sizeof b, "%-5lld %-20s %8lld %-9s %8.1fs ago %7llu  %s\n", p["id"].get<long long>(),
                    p["host"].get<std::string>().substr(0, 20).c_str(), p["pid"].get<long long>(),
                    p["state"].get<std::string>().c_str(), p["heartbeat_age_s"].get<double>(),
                    p["running"].get<unsigned long long>(), pools.c_str());
      out << b;
      if (p["reconnects"].get<std::uint64_t>() > 0)
        out << "      lost its database connection and reconnected " << p["reconnects"].get<std::uint64_t>() << " time"
            << (p["reconnects"].get<std::uint64_t>() == 1 ? "" : "s") << "\n";
    }
  }
  if (j.contains("links")) {
    out << "\n"
        << style.bold("Links")
        << " (transfer = slots held -> last byte; slot wait = at the links -> every FTS "
           "slot held)\n";
    std::snprintf(b, sizeof b, "  %-20s %9s %9s %9s %9s %9s %9s %8s %8s\n", "link", "transfers", "MB", "xfer mean",
                  "xfer p95", "wait mean", "wait p95", "moving", "waiting");
    out << b;
    for (const auto& [name, l] : j["links"].items()) {
      std::snprintf(b, sizeof b, "  %-20s %9llu %9.0f %9s %9s %9s %9s %8llu %8llu\n", name.substr(0, 20).c_str(),
                    l["transfers"].get<unsigned long long>(), l["MB"].get<double>(),
                    fmt(l["transfer_s"]["mean"]).c_str(), fmt(l["transfer_s"]["p95"]).c_str(),
                    fmt(l["slot_wait_s"]["mean"]).c_str(), fmt(l["slot_wait_s"]["p95"]).c_str(),
                    l["moving"].get<unsigned long long>(), l["waiting"].get<unsigned long long>());
      out << b;
    }
  }
  if (j.contains("forecasts")) {
    const auto& f = j["forecasts"];
    const auto ratio = [](const nlohmann::ordered_json& v) {
      char r[32] = "-";
      if (v.is_number()) std::snprintf(r, sizeof r, "%.2f", v.get<double>());
      return std::string(r);
    };
    out << "\n"
        << style.bold("Forecasts")
        << " (stepq forecast --record) of sessions that have started: " << f["count"].get<std::uint64_t>() << "\n";
    std::snprintf(b, sizeof b, "  started by the forecast p95         %5.1f%% (%llu)\n",
                  100 * f["within_p95_fraction"].get<double>(), f["within_p95"].get<unsigned long long>());
    out << b << "  observed start-up / forecast p50     median " << ratio(f["startup_vs_p50_median"]) << "\n"
        << "  observed start-up / queue-blind      median " << ratio(f["startup_vs_queue_blind_median"])
        << " (the broker's prepare cost, as the offer quotes it)\n";
  }
  if (!j["failures"]["reasons"].empty()) {
    out << "\n" << style.red("why sessions failed:") << "\n";
    for (const auto& [r, n] : j["failures"]["reasons"].items()) {
      std::string line = "  " + std::to_string(n.get<std::uint64_t>()) + "  " + r;
      if (line.size() > 100) line = line.substr(0, 99) + "~";
      out << line << "\n";
    }
  }
}

}  // namespace stepq
