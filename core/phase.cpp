#include "phase.hpp"

#include <string>

namespace stepq {

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::DORMANT: return "DORMANT";
    case Phase::WAITING: return "WAITING";
    case Phase::READY: return "READY";
    case Phase::RUNNING: return "RUNNING";
    case Phase::COMPLETED: return "COMPLETED";
    case Phase::FAILED: return "FAILED";
    case Phase::CANCELLED: return "CANCELLED";
  }
  return "?";
}

std::optional<Phase> phase_from_string(std::string_view s) {
  for (Phase p : kAllPhases)
    if (to_string(p) == s) return p;
  return std::nullopt;
}

IllegalTransition::IllegalTransition(Phase from, Phase to)
    : std::logic_error("illegal step transition " + std::string(to_string(from)) + " -> " +
                       std::string(to_string(to))) {}

void throw_illegal_transition(Phase from, Phase to) { throw IllegalTransition(from, to); }

}  // namespace stepq
