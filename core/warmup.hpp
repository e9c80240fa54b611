// Warm-up removal: how many observations at the start of a run to discard.
//
// MSER-5 (White 1997; research/simulation.md §4): average the series in blocks of 5, Z₁…Z_m,
// and pick d* = argmin over d ≤ m/2 of Σ_{i>d}(Z_i − Z̄_d)² / (m − d)². The start of the run
// that this drops is where the series is furthest from its own later mean.
#pragma once
#include <cstddef>
#include <vector>

namespace stepq {

// Number of observations (a multiple of 5) to drop from the front of `series`.
std::size_t mser5(const std::vector<double>& series);

}  // namespace stepq
