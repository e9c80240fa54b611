// A run's history, one record per claim and one per session: what `--trace DIR` writes as CSV
// (and, live, what the step table keeps). Implementations must be cheap: they sit on the hot path.
#pragma once
#include <cstdint>
#include <string_view>

namespace stepq {

struct ClaimRecord {
  std::uint64_t session;
  int tmpl, step, kind, pool, attempt;
  double ready_s, claimed_s, finished_s;
  std::string_view outcome;  // completed | failed | retry | requeue | lost
};

struct SessionRecord {
  std::uint64_t session;
  int tmpl;
  double accepted_s, finished_s;
  bool started;  // false: failed
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void claim(const ClaimRecord& r) = 0;
  virtual void session(const SessionRecord& r) = 0;
};

}  // namespace stepq
