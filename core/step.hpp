// What a claim hands to a worker, and what a worker hands back (DESIGN §2, §5).
#pragma once
#include <cstdint>
#include <string>

namespace stepq {

// A claimed step. `id` and `fence` belong to the Queue that made the claim: the finish of this
// claim applies only while the step is still RUNNING under the same fence (lease).
struct StepRef {
  std::uint64_t id = 0;
  std::uint64_t fence = 0;
  std::uint64_t session = 0;  // session index: the key of its random streams
  int tmpl = 0;               // template index
  int step = 0;               // step number in the template's plan
  int kind = 0;
  int attempt = 1;          // 1-based; polls and re-checks do not count as attempts
  double ready_at = 0;      // when it last became READY: wait = claimed − ready_at
  double activated_at = 0;  // when its predecessors were all complete: a poll's external clock starts here
};

struct Outcome {
  enum class Type { completed, failed, wait };
  Type type = Type::completed;
  double delay_s = 0;         // wait: READY again no sooner than now + delay_s
  bool next_attempt = false;  // wait after a failure (a retry) rather than a poll or re-check
  std::string reason;         // failed / retry: why; completed: what it found, if anything

  static Outcome completed() { return {}; }
  static Outcome failed(std::string why) { return {Type::failed, 0, false, std::move(why)}; }
  static Outcome retry(double delay, std::string why) { return {Type::wait, delay, true, std::move(why)}; }
  static Outcome requeue(double delay) { return {Type::wait, delay, false, {}}; }
};

}  // namespace stepq
