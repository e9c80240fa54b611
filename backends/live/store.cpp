#include "store.hpp"

#include <algorithm>

namespace stepq::live {

void add_execution(LiveStatus::Kind& k, double wait_s, double service_s, const std::string& outcome) {
  k.executions++;
  k.wait_s.add(std::max(0.0, wait_s));
  if (outcome == "reaped" || outcome == "released") {
    k.reaped += outcome == "reaped";
    return;  // it did not run to an end: its duration is not a service time
  }
  k.service_s.add(std::max(0.0, service_s));
  if (outcome == "lost") k.lost++;
  if (outcome == "retry") k.retries++;
}

void drop_unused_kinds(LiveStatus& st) {
  st.kinds.erase(std::remove_if(st.kinds.begin(), st.kinds.end(),
                                [](const auto& k) {
                                  std::uint64_t n = 0;
                                  for (auto c : k.steps) n += c;
                                  return n == 0;
                                }),
                 st.kinds.end());
}

}  // namespace stepq::live
