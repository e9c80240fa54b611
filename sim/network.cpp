#include "network.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace stepq::sim {

namespace sg4 = simgrid::s4u;

Network::Network(const Scenario& sc, Timeline& timeline, std::size_t first_series, std::vector<LinkStats>& stats)
    : sc_(sc), timeline_(timeline), first_series_(first_series), stats_(stats) {
  auto* zone = sg4::create_full_zone("stepq");
  std::map<std::string, sg4::Host*> hosts;
  broker_ = hosts["broker"] = zone->create_host("broker", "1Gf")->seal();
  for (const auto& h : sc.platform.hosts)
    if (!hosts.count(h)) hosts[h] = zone->create_host(h, "1Gf")->seal();
  std::vector<sg4::Link*> links;
  for (const auto& l : sc.platform.links)
    links.push_back(zone->create_link(l.name, l.bandwidth_Bps)->set_latency(l.latency_s)->seal());
  for (const auto& r : sc.platform.routes) {
    std::vector<sg4::LinkInRoute> hops;
    for (int l : r.links) hops.emplace_back(links[l]);
    zone->add_route(hosts[r.from]->get_netpoint(), hosts[r.to]->get_netpoint(), nullptr, nullptr, hops, true);
    route_ends_[0].push_back(hosts[r.from]);
    route_ends_[1].push_back(hosts[r.to]);
  }
  zone->seal();
  jobs_wake_ = sg4::Semaphore::create(0);
  links_.resize(sc.platform.links.size());
  stats_.resize(sc.platform.links.size());
}

void Network::changed(int l) {
  LinkRt& rt = links_[l];
  LinkStats& st = stats_[l];
  const double now = sg4::Engine::get_clock(), dt = now - rt.last_change;
  st.queued_s += static_cast<double>(rt.waiting.size()) * dt;
  st.active_s += rt.active * dt;
  if (rt.active > 0) st.busy_s += dt;
  rt.last_change = now;
}

void Network::acquire(int l) {
  LinkRt& rt = links_[l];
  const int cap = sc_.platform.links[l].max_active;
  changed(l);
  if (cap == 0 || rt.active < cap) {
    rt.active++;
    stats_[l].max_active = std::max<std::uint64_t>(stats_[l].max_active, rt.active);
    timeline_.change(sg4::Engine::get_clock(), first_series_ + 2 * l, Timeline::busy, +1);
    return;
  }
  auto turn = sg4::Semaphore::create(0);
  rt.waiting.push_back(turn);
  stats_[l].max_queue = std::max<std::uint64_t>(stats_[l].max_queue, rt.waiting.size());
  timeline_.change(sg4::Engine::get_clock(), first_series_ + 2 * l, Timeline::ready, +1);
  turn->acquire();  // release() below hands this transfer the slot it gives up: `active` stays
}

void Network::release(int l) {
  LinkRt& rt = links_[l];
  changed(l);
  const double now = sg4::Engine::get_clock();
  if (!rt.waiting.empty()) {
    // Off the queue before the release: a release is a simcall, during which other actors run
    // and may release this link too; they must find the next one in line.
    const auto next = rt.waiting.front();
    rt.waiting.pop_front();
    timeline_.change(now, first_series_ + 2 * l, Timeline::ready, -1);
    next->release();
    return;
  }
  rt.active--;
  timeline_.change(now, first_series_ + 2 * l, Timeline::busy, -1);
}

void Network::transfer(int route, double bytes) {
  const RouteSpec& r = sc_.platform.routes[route];
  std::vector<int> order = r.links;
  std::sort(order.begin(), order.end());
  std::vector<double> waited(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const double t = sg4::Engine::get_clock();
    acquire(order[i]);
    waited[i] = sg4::Engine::get_clock() - t;
  }
  const double start = sg4::Engine::get_clock();
  const auto size = static_cast<std::uint64_t>(std::llround(bytes));
  if (size > 0) sg4::Comm::sendto(route_ends_[0][route], route_ends_[1][route], size);
  const double end = sg4::Engine::get_clock();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int l = order[i];
    LinkStats& st = stats_[l];
    st.transfers++;
    st.bytes += bytes;
    st.transfer_s.add(end - start);
    st.queue_s.add(waited[i]);
    if (end > start)
      timeline_.spread(end, start, first_series_ + 2 * l + 1, Timeline::ready, bytes / 1e6 / (end - start));
    release(l);
  }
}

void Network::start(double delay_s, int route, double bytes, std::function<void()> done) {
  jobs_.push_back({delay_s, route, bytes, std::move(done)});
  if (idle_movers_ > 0) {
    idle_movers_--;
    jobs_wake_->release();
    return;
  }
  // A daemon: a rule of a failed session may still be moving when every session has finished.
  sg4::Actor::create("mover", broker_, [this] {
    sg4::Actor::self()->daemonize();
    mover();
  });
}

void Network::mover() {
  for (;;) {
    if (jobs_.empty()) {
      idle_movers_++;
      jobs_wake_->acquire();
      continue;
    }
    Job j = std::move(jobs_.front());
    jobs_.pop_front();
    if (j.delay_s > 0) sg4::this_actor::sleep_for(j.delay_s);
    transfer(j.route, j.bytes);
    j.done();
  }
}

void Network::finish() {
  for (std::size_t l = 0; l < links_.size(); ++l) changed(static_cast<int>(l));
}

}  // namespace stepq::sim
