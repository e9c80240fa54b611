// Step phases and the only transitions the engine may make (DESIGN §2).
//
// DORMANT→READY (dependencies done) · WAITING→READY (not-before reached) · READY→RUNNING (claim) ·
// RUNNING→COMPLETED|FAILED|WAITING|READY (READY = lease lost) · any non-terminal→CANCELLED.
// Anything else is a bug: transition() throws so the bug surfaces where it happens.
#pragma once
#include <optional>
#include <stdexcept>
#include <string_view>

namespace stepq {

enum class Phase : unsigned char { DORMANT, WAITING, READY, RUNNING, COMPLETED, FAILED, CANCELLED };
inline constexpr Phase kAllPhases[] = {Phase::DORMANT,   Phase::WAITING, Phase::READY,    Phase::RUNNING,
                                       Phase::COMPLETED, Phase::FAILED,  Phase::CANCELLED};

constexpr bool is_terminal(Phase p) { return p == Phase::COMPLETED || p == Phase::FAILED || p == Phase::CANCELLED; }

constexpr bool is_legal(Phase from, Phase to) {
  if (is_terminal(from)) return false;
  if (to == Phase::CANCELLED) return true;
  switch (from) {
    case Phase::DORMANT: return to == Phase::READY;
    case Phase::WAITING: return to == Phase::READY;
    case Phase::READY: return to == Phase::RUNNING;
    case Phase::RUNNING:
      return to == Phase::COMPLETED || to == Phase::FAILED || to == Phase::WAITING || to == Phase::READY;
    default: return false;
  }
}

std::string_view to_string(Phase p);
std::optional<Phase> phase_from_string(std::string_view s);

struct IllegalTransition : std::logic_error {
  IllegalTransition(Phase from, Phase to);
};

[[noreturn]] void throw_illegal_transition(Phase from, Phase to);

// Returns `to`, or throws IllegalTransition. Inline: the simulator makes several a step.
inline Phase transition(Phase from, Phase to) {
  if (!is_legal(from, to)) throw_illegal_transition(from, to);
  return to;
}

}  // namespace stepq
