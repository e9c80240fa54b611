// The phases as both databases store them, written once: a step's phase (core/phase.hpp) and a
// transfer's (core/fluid_links.hpp) are the enum's integer, so that the partial indexes test a
// literal the planner can prove. Each STEPQ_SQL_* macro is that integer as SQL text, to splice into
// string literals ("… WHERE phase = " STEPQ_SQL_READY " AND …", raw strings alike); the
// static_assert beside it holds the text to its enum value, so that renumbering a phase without
// its SQL does not build. (Databases already written hold the old numbers: a renumbering also
// needs a migration.) No other file under backends/ writes a phase as a number
// (tests/backends/phase_literals.py).
#pragma once
#include "core/fluid_links.hpp"
#include "core/phase.hpp"

namespace stepq::live {

// The integer a phase is stored as, for binding and comparing in C++.
constexpr int db_phase(Phase p) { return static_cast<int>(p); }
constexpr int db_phase(FluidLinks::Phase p) { return static_cast<int>(p); }

// Whether the SQL text `sql` (one or more digits) spells the stored value of `p`.
template <class P>
consteval bool spells(const char* sql, P p) {
  int v = 0;
  if (*sql == '\0') return false;
  for (; *sql; ++sql) {
    if (*sql < '0' || *sql > '9') return false;
    v = v * 10 + (*sql - '0');
  }
  return v == db_phase(p);
}

// Whether every phase lies in [lo, hi], as a schema's CHECK (phase BETWEEN lo AND hi) assumes.
consteval bool all_between(Phase lo, Phase hi) {
  for (Phase p : kAllPhases)
    if (db_phase(p) < db_phase(lo) || db_phase(p) > db_phase(hi)) return false;
  return true;
}
consteval bool all_between(FluidLinks::Phase lo, FluidLinks::Phase hi) {
  using enum FluidLinks::Phase;
  for (FluidLinks::Phase p : {delayed, waiting, latency, flowing, done})
    if (db_phase(p) < db_phase(lo) || db_phase(p) > db_phase(hi)) return false;
  return true;
}

}  // namespace stepq::live

// A step's phase.
#define STEPQ_SQL_DORMANT "0"
static_assert(stepq::live::spells(STEPQ_SQL_DORMANT, stepq::Phase::DORMANT));
#define STEPQ_SQL_WAITING "1"
static_assert(stepq::live::spells(STEPQ_SQL_WAITING, stepq::Phase::WAITING));
#define STEPQ_SQL_READY "2"
static_assert(stepq::live::spells(STEPQ_SQL_READY, stepq::Phase::READY));
#define STEPQ_SQL_RUNNING "3"
static_assert(stepq::live::spells(STEPQ_SQL_RUNNING, stepq::Phase::RUNNING));
#define STEPQ_SQL_COMPLETED "4"
static_assert(stepq::live::spells(STEPQ_SQL_COMPLETED, stepq::Phase::COMPLETED));
#define STEPQ_SQL_FAILED "5"
static_assert(stepq::live::spells(STEPQ_SQL_FAILED, stepq::Phase::FAILED));
#define STEPQ_SQL_CANCELLED "6"
static_assert(stepq::live::spells(STEPQ_SQL_CANCELLED, stepq::Phase::CANCELLED));

// A transfer's phase.
#define STEPQ_SQL_TRANSFER_DELAYED "0"
static_assert(stepq::live::spells(STEPQ_SQL_TRANSFER_DELAYED, stepq::FluidLinks::Phase::delayed));
#define STEPQ_SQL_TRANSFER_DONE "4"
static_assert(stepq::live::spells(STEPQ_SQL_TRANSFER_DONE, stepq::FluidLinks::Phase::done));
