#include "stats.hpp"

namespace stepq {

void RunStats::add_failure(const std::string& reason) {
  failure_reason_count++;
  for (auto& [r, n] : failure_reasons)
    if (r == reason) {
      ++n;
      return;
    }
  if (failure_reasons.size() < 5) failure_reasons.emplace_back(reason, 1);
}

}  // namespace stepq
