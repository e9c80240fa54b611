#include "lifecycle.hpp"

#include "core/rng.hpp"
#include "core/scenario.hpp"

namespace stepq::live {

SessionDraws draw_session(const Scenario& sc, int tmpl, std::uint64_t index) {
  SessionDraws d;
  const TemplateSpec& tp = sc.templates[tmpl];
  if (!tp.session) return d;
  const std::uint64_t key = session_key(sc.seed, index);
  Stream run(derive(key, static_cast<std::uint64_t>(Purpose::run)));
  d.run_s = tp.session->run_s.sample(run);
  if (!tp.clustered()) return d;
  d.cluster = sc.platform.clusters[tp.session->cluster].name;
  Stream request(derive(key, static_cast<std::uint64_t>(Purpose::request)));
  d.cores = tp.session->cores.sample(request);
  d.memory_GB = tp.session->memory_GB.sample(request);
  if (sc.arrivals.users) d.owner = sc.arrivals.users->user_of(sc.seed, index);
  return d;
}

}  // namespace stepq::live
