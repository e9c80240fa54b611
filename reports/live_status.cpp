#include "live_status.hpp"

#include <cstdio>

#include "core/phase.hpp"

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

}  // namespace

nlohmann::ordered_json live_status_json(const live::LiveStatus& st, double scale) {
  nlohmann::ordered_json j;
  j["time_scale"] = scale;
  for (const auto& [phase, n] : st.sessions) j["sessions"][phase] = n;
  j["startup_s"] = dist(st.startup_s, scale);
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
  j["submissions_active"] = st.submissions_active;
  return j;
}

void print_live_status(std::ostream& out, const nlohmann::ordered_json& j) {
  char b[256];
  out << "sessions:";
  for (const auto& [phase, n] : j["sessions"].items()) out << "  " << phase << " " << n.get<std::uint64_t>();
  if (j["submissions_active"].get<int>() > 0) out << "  (a submission is still running)";
  out << "\n";
  const auto& s = j["startup_s"];
  if (s["count"].get<std::uint64_t>() > 0)
    out << "start-up" << (j["time_scale"].get<double>() != 1 ? " (model s)" : " (s)") << ":  p50 " << fmt(s["p50"])
        << "  p95 " << fmt(s["p95"]) << "  p99 " << fmt(s["p99"]) << "  mean " << fmt(s["mean"]) << "  over "
        << s["count"].get<std::uint64_t>() << " completed sessions\n";
  else
    out << "start-up: no session has completed yet\n";

  out << "\n";
  std::snprintf(b, sizeof b, "%-16s %7s %7s %7s %7s %9s %6s %6s  %9s %9s  %9s %9s\n", "kind", "DORMANT", "WAITING",
                "READY", "RUNNING", "COMPLETED", "FAILED", "CANCEL", "wait mean", "wait p95", "svc mean", "svc p95");
  out << b;
  for (const auto& [name, k] : j["kinds"].items()) {
    const auto& st = k["steps"];
    std::snprintf(b, sizeof b, "%-16s %7llu %7llu %7llu %7llu %9llu %6llu %6llu  %9s %9s  %9s %9s\n",
                  name.substr(0, 16).c_str(), st["DORMANT"].get<unsigned long long>(),
                  st["WAITING"].get<unsigned long long>(), st["READY"].get<unsigned long long>(),
                  st["RUNNING"].get<unsigned long long>(), st["COMPLETED"].get<unsigned long long>(),
                  st["FAILED"].get<unsigned long long>(), st["CANCELLED"].get<unsigned long long>(),
                  fmt(k["wait_s"]["mean"]).c_str(), fmt(k["wait_s"]["p95"]).c_str(), fmt(k["service_s"]["mean"]).c_str(),
                  fmt(k["service_s"]["p95"]).c_str());
    out << b;
  }
  if (!j["processors"].empty()) {
    out << "\n";
    std::snprintf(b, sizeof b, "%-5s %-20s %8s %-9s %11s %8s  %s\n", "proc", "host", "pid", "state", "heartbeat", "running",
                  "pools");
    out << b;
    for (const auto& p : j["processors"]) {
      std::snprintf(b, sizeof b, "%-5lld %-20s %8lld %-9s %9.1fs ago %5llu  %s\n", p["id"].get<long long>(),
                    p["host"].get<std::string>().substr(0, 20).c_str(), p["pid"].get<long long>(),
                    p["state"].get<std::string>().c_str(), p["heartbeat_age_s"].get<double>(),
                    p["running"].get<unsigned long long>(), p["pools"].get<std::string>().c_str());
      out << b;
      if (p["reconnects"].get<std::uint64_t>() > 0)
        out << "      lost its database connection and reconnected " << p["reconnects"].get<std::uint64_t>() << " time"
            << (p["reconnects"].get<std::uint64_t>() == 1 ? "" : "s") << "\n";
    }
  }
  if (!j["failures"]["reasons"].empty()) {
    out << "\nwhy sessions failed:\n";
    for (const auto& [r, n] : j["failures"]["reasons"].items()) out << "  " << n.get<std::uint64_t>() << "  " << r << "\n";
  }
}

}  // namespace stepq
