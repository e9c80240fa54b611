#include "status_summary.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace stepq::live {

namespace {

using json = nlohmann::json;
constexpr int kVersion = 1;  // of the text below: another one is not read, but summed again
const char* const kPhases[] = {"ACTIVE", "COMPLETED", "FAILED", "CANCELLED"};

json histogram_json(const Histogram& h) {
  const Histogram::Parts p = h.parts();
  json b = json::array();
  for (const auto& [bucket, n] : p.buckets) b.push_back({bucket, n});
  return {{"zeros", p.zeros}, {"n", p.n}, {"sum", p.sum}, {"min", p.min}, {"max", p.max}, {"buckets", b}};
}

Histogram histogram_of(const json& j) {
  Histogram::Parts p;
  p.zeros = j.at("zeros").get<std::uint64_t>();
  p.n = j.at("n").get<std::uint64_t>();
  p.sum = j.at("sum").get<double>();
  p.min = j.at("min").get<double>();
  p.max = j.at("max").get<double>();
  for (const auto& b : j.at("buckets"))
    p.buckets.emplace_back(b.at(0).get<std::uint32_t>(), b.at(1).get<std::uint32_t>());
  return Histogram::from_parts(p);
}

json frontier_json(const Frontier& f) { return {{"frontier", f.frontier}, {"open", f.open}}; }

Frontier frontier_of(const json& j) {
  Frontier f{j.at("frontier").get<std::int64_t>(), j.at("open").get<std::vector<std::int64_t>>()};
  if (!std::is_sorted(f.open.begin(), f.open.end()) || (!f.open.empty() && f.open.back() > f.frontier))
    throw std::invalid_argument("summary: open ids beyond the frontier");
  return f;
}

}  // namespace

LiveStatus blank_status(const std::vector<std::string>& kind_names, double now) {
  LiveStatus st;
  st.now = now;
  for (const char* p : kPhases) st.sessions.emplace_back(p, 0);
  for (const auto& n : kind_names) {
    st.kinds.push_back({});
    st.kinds.back().name = n;
  }
  st.over_time.ensure_series(st.kinds.size());
  return st;
}

void merge_status(LiveStatus& into, const LiveStatus& from) {
  for (const auto& [phase, n] : from.sessions) {
    auto it = std::find_if(into.sessions.begin(), into.sessions.end(), [&](const auto& p) { return p.first == phase; });
    if (it == into.sessions.end()) into.sessions.emplace_back(phase, n);
    else it->second += n;
  }
  if (into.kinds.size() != from.kinds.size()) throw std::logic_error("merge_status: different kinds");
  for (std::size_t k = 0; k < from.kinds.size(); ++k) {
    auto& a = into.kinds[k];
    const auto& b = from.kinds[k];
    for (std::size_t p = 0; p < a.steps.size(); ++p) a.steps[p] += b.steps[p];
    a.wait_s.merge(b.wait_s);
    a.service_s.merge(b.service_s);
    a.executions += b.executions, a.lost += b.lost, a.reaped += b.reaped, a.retries += b.retries;
  }
  into.startup_s.merge(from.startup_s);
  for (const auto& [reason, n] : from.failure_reasons) {
    auto it = std::find_if(into.failure_reasons.begin(), into.failure_reasons.end(),
                           [&](const auto& r) { return r.first == reason; });
    if (it == into.failure_reasons.end()) into.failure_reasons.emplace_back(reason, n);
    else it->second += n;
  }
  for (const auto& l : from.links) {
    auto it = std::find_if(into.links.begin(), into.links.end(), [&](const auto& x) { return x.name == l.name; });
    if (it == into.links.end()) {
      into.links.push_back(l);
      continue;
    }
    it->transfers += l.transfers, it->moving += l.moving, it->waiting += l.waiting, it->bytes += l.bytes;
    it->transfer_s.merge(l.transfer_s);
    it->slot_wait_s.merge(l.slot_wait_s);
  }
  auto& f = into.forecasts;
  f.count += from.forecasts.count;
  f.within_p95 += from.forecasts.within_p95;
  f.vs_p50.insert(f.vs_p50.end(), from.forecasts.vs_p50.begin(), from.forecasts.vs_p50.end());
  f.vs_queue_blind.insert(f.vs_queue_blind.end(), from.forecasts.vs_queue_blind.begin(),
                          from.forecasts.vs_queue_blind.end());
  into.over_time.merge(from.over_time);
}

void keep_top_reasons(LiveStatus& st) {
  auto& r = st.failure_reasons;
  std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (r.size() > 10) r.resize(10);
}

std::string summary_text(const StatusSummary& s, const std::vector<std::int64_t>& kind_ids) {
  const LiveStatus& st = s.sealed;
  json j = {{"version", kVersion}, {"sessions", frontier_json(s.sessions)}, {"transfers", frontier_json(s.transfers)}};
  for (const auto& [phase, n] : st.sessions) j["phases"][phase] = n;
  j["kinds"] = json::array();
  for (std::size_t k = 0; k < st.kinds.size(); ++k) {
    const auto& x = st.kinds[k];
    j["kinds"].push_back({{"id", kind_ids.at(k)},
                          {"name", x.name},
                          {"steps", x.steps},
                          {"wait_s", histogram_json(x.wait_s)},
                          {"service_s", histogram_json(x.service_s)},
                          {"executions", x.executions},
                          {"lost", x.lost},
                          {"reaped", x.reaped},
                          {"retries", x.retries}});
  }
  j["startup_s"] = histogram_json(st.startup_s);
  j["failures"] = st.failure_reasons;
  j["links"] = json::array();
  for (const auto& l : st.links)
    j["links"].push_back({{"name", l.name},
                          {"transfers", l.transfers},
                          {"bytes", l.bytes},
                          {"transfer_s", histogram_json(l.transfer_s)},
                          {"slot_wait_s", histogram_json(l.slot_wait_s)}});
  const auto& f = st.forecasts;
  j["forecasts"] = {
      {"count", f.count}, {"within_p95", f.within_p95}, {"vs_p50", f.vs_p50}, {"vs_queue_blind", f.vs_queue_blind}};
  const IntervalBins::Parts b = st.over_time.parts();
  j["over_time"] = {{"w", b.w}, {"first", b.first}, {"last", b.last}, {"lo", b.lo}, {"hi", b.hi}, {"area", b.area}};
  return j.dump();
}

std::optional<StatusSummary> parse_summary(const std::string& text, const std::vector<std::int64_t>& kind_ids,
                                           const std::vector<std::string>& kind_names, double now) {
  if (text.empty()) return std::nullopt;
  try {
    const json j = json::parse(text);
    if (j.at("version").get<int>() != kVersion) return std::nullopt;
    StatusSummary s;
    s.sessions = frontier_of(j.at("sessions"));
    s.transfers = frontier_of(j.at("transfers"));
    s.sealed = blank_status(kind_names, now);
    LiveStatus& st = s.sealed;
    for (auto& [phase, n] : st.sessions) n = j.at("phases").at(phase).get<std::uint64_t>();
    // The summary's kinds onto the table's rows: a kind gone or renamed means another database.
    const auto& kinds = j.at("kinds");
    std::vector<std::size_t> row(kinds.size());
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const auto& x = kinds[k];
      const auto at = std::find(kind_ids.begin(), kind_ids.end(), x.at("id").get<std::int64_t>());
      if (at == kind_ids.end() || kind_names[static_cast<std::size_t>(at - kind_ids.begin())] != x.at("name"))
        return std::nullopt;
      row[k] = static_cast<std::size_t>(at - kind_ids.begin());
      auto& to = st.kinds[row[k]];
      to.steps = x.at("steps").get<std::array<std::uint64_t, 7>>();
      to.wait_s = histogram_of(x.at("wait_s"));
      to.service_s = histogram_of(x.at("service_s"));
      to.executions = x.at("executions").get<std::uint64_t>();
      to.lost = x.at("lost").get<std::uint64_t>();
      to.reaped = x.at("reaped").get<std::uint64_t>();
      to.retries = x.at("retries").get<std::uint64_t>();
    }
    st.startup_s = histogram_of(j.at("startup_s"));
    st.failure_reasons = j.at("failures").get<std::vector<std::pair<std::string, std::uint64_t>>>();
    for (const auto& l : j.at("links")) {
      LiveStatus::Link x;
      x.name = l.at("name").get<std::string>();
      x.transfers = l.at("transfers").get<std::uint64_t>();
      x.bytes = l.at("bytes").get<double>();
      x.transfer_s = histogram_of(l.at("transfer_s"));
      x.slot_wait_s = histogram_of(l.at("slot_wait_s"));
      st.links.push_back(std::move(x));
    }
    const auto& f = j.at("forecasts");
    st.forecasts.count = f.at("count").get<std::uint64_t>();
    st.forecasts.within_p95 = f.at("within_p95").get<std::uint64_t>();
    st.forecasts.vs_p50 = f.at("vs_p50").get<std::vector<double>>();
    st.forecasts.vs_queue_blind = f.at("vs_queue_blind").get<std::vector<double>>();
    const auto& b = j.at("over_time");
    IntervalBins::Parts p{b.at("w").get<double>(),        b.at("first").get<double>(),
                          b.at("last").get<double>(),     b.at("lo").get<std::int64_t>(),
                          b.at("hi").get<std::int64_t>(), b.at("area").get<std::vector<std::vector<double>>>()};
    if (p.area.size() != 2 * kinds.size()) return std::nullopt;
    IntervalBins bins = IntervalBins::from_parts(std::move(p));
    bins.remap(row, kind_names.size());
    st.over_time = std::move(bins);
    return s;
  } catch (const std::exception&) {  // nlohmann's parse, type and range errors, bad parts
    return std::nullopt;
  }
}

}  // namespace stepq::live
