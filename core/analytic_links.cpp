#include "analytic_links.hpp"

#include <algorithm>
#include <cmath>

namespace stepq {

std::vector<RouteShare> route_shares(const Scenario& sc, const PlanStep& step) {
  const KindSpec& k = sc.kinds[step.kind];
  std::vector<RouteShare> out;
  if (!k.transfer) return out;
  const auto& given = step.replicas.empty() ? k.transfer->replicas : step.replicas;
  const std::vector<ReplicaChoice> only_from = {{1, {k.transfer->from}}};
  const auto& choices = given.empty() ? only_from : given;
  double total = 0;
  for (const auto& c : choices) total += c.weight;
  for (const auto& c : choices)
    out.push_back({c.weight / total, sc.platform.fastest_route(c.hosts, k.transfer->to, step.bytes)});
  return out;
}

LinkStation link_station(double rate_per_s, double mean_bytes, double bandwidth_Bps, int max_active) {
  LinkStation s;
  s.service_s = mean_bytes / bandwidth_Bps;
  s.rho = rate_per_s * s.service_s;
  if (s.rho >= 1) {
    s.stable = false;
    return s;
  }
  if (max_active <= 0) {
    s.slowdown = 1 / (1 - s.rho);
    return s;
  }
  // N present is geometric, P(N = n) = (1 − ρ)ρⁿ; those beyond c wait: E[(N − c)⁺] = ρ^(c+1)/(1 − ρ),
  // and by Little Wq = that/λ = S·ρᶜ/(1 − ρ). The rest of the M/M/1 sojourn S/(1 − ρ) is moving:
  // S·(1 − ρᶜ)/(1 − ρ) (c = 1: S, FCFS alone on the link).
  const double rc = std::pow(s.rho, max_active);
  s.wait_s = s.service_s * rc / (1 - s.rho);
  s.slowdown = (1 - rc) / (1 - s.rho);
  return s;
}

LinkNetwork::LinkNetwork(const Scenario& sc) : sc_(sc) {
  for (const auto& l : sc.platform.links) {
    Link k;
    k.name = l.name;
    k.bandwidth_Bps = l.bandwidth_Bps;
    k.max_active = l.max_active;
    links_.push_back(std::move(k));
  }
}

void LinkNetwork::add(int route, double rate_per_s, double bytes, const Dist* size, int tmpl, int step, bool repeated) {
  if (rate_per_s <= 0 || route < 0) return;
  const RouteSpec& r = sc_.platform.routes[route];
  const double b1 = size ? size->mean() : bytes, b2 = size ? size->second_moment() : bytes * bytes;
  const bool exponential = size && size->type() == Dist::Type::exponential;
  for (int l : r.links) {
    Link& k = links_[l];
    k.rate_per_s += rate_per_s;
    k.bytes += rate_per_s * b1;
    k.bytes2 += rate_per_s * b2;
    k.multi_hop = k.multi_hop || r.links.size() > 1;
    k.repeated = k.repeated || repeated;
    k.exponential = k.exponential && exponential && (k.exp_mean < 0 || k.exp_mean == b1);
    if (k.exponential) k.exp_mean = b1;
    // Two items of one session on the link: their transfers come close together, not as Poisson.
    const std::pair<int, int> me{tmpl, step};
    for (const auto& [t, s] : k.items) k.bunched = k.bunched || (t == tmpl && s != step);
    if (std::find(k.items.begin(), k.items.end(), me) == k.items.end()) k.items.push_back(me);
  }
  added_.push_back({route, rate_per_s, b1});
}

void LinkNetwork::solve() {
  for (std::size_t l = 0; l < links_.size(); ++l) {
    Link& k = links_[l];
    k.station = link_station(k.rate_per_s, k.mean_bytes(), k.bandwidth_Bps, k.max_active);
    k.moving_sum = 0;
  }
  for (const Added& a : added_)
    for (int l : sc_.platform.routes[a.route].links) links_[l].moving_sum += a.rate * moving_s(a.route, a.bytes);
}

double LinkNetwork::waiting_s(int route) const {
  double w = 0;
  for (int l : sc_.platform.routes[route].links) w += links_[l].station.wait_s;
  return w;
}

double LinkNetwork::per_byte_s(int route) const {
  double most = 0;
  for (int l : sc_.platform.routes[route].links)
    most = std::max(most, links_[l].station.slowdown / links_[l].bandwidth_Bps);
  return most;
}

double LinkNetwork::moving_s(int route, double bytes) const {
  return sc_.platform.routes[route].latency_s + bytes * per_byte_s(route);
}

int LinkNetwork::overloaded_link(int route) const {
  for (int l : sc_.platform.routes[route].links)
    if (!links_[l].station.stable) return l;
  return -1;
}

std::pair<std::string, std::vector<std::string>> LinkNetwork::describe(int link, bool poisson) const {
  const Link& k = links_[link];
  const LinkSpec& spec = sc_.platform.links[link];
  std::string model;
  if (k.max_active > 0)
    model = "M/M/1 work-conserving, cap " + std::to_string(k.max_active) + (k.multi_hop ? ", multi-hop" : "");
  else if (k.multi_hop) model = "PS approximation, multi-hop";
  else model = std::string(poisson ? "M" : "G") + "/" + (k.exponential && k.rate_per_s > 0 ? "M" : "G") + "/1-PS";
  std::vector<std::string> why;
  if (!poisson) why.push_back("arrivals not Poisson");
  if (k.multi_hop) why.push_back("routes of several links: a transfer moves at its slowest link's share");
  if (k.max_active > 0 && !k.exponential) why.push_back("sizes not exponential under the cap");
  if (k.max_active > 0 && spec.latency_s > 0) why.push_back("latency holds a slot without moving bytes");
  if (k.bunched) why.push_back("several transfers per session arrive close together");
  if (k.repeated) why.push_back("retried attempts move their bytes again");
  return {model, why};
}

}  // namespace stepq
