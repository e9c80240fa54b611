// Step handlers: one per op, written once, blocking-style, against Services. The retry policy
// (attempts, backoff) is applied here too, so every mode retries the same way.
#pragma once
#include "interfaces.hpp"

namespace stepq {

Outcome run_handler(const StepContext& c, Services& services);

// Turns a failed operation into a retry (WAITING with backoff) or, after the last attempt, a failure.
Outcome after_failure(const KindSpec& kind, int attempt, std::string reason);

}  // namespace stepq
