// PostgreSQL's network SQL: the emulated platform's transfers (core/fluid_links.hpp) and the
// clock they were advanced to, which with_links() locks, loads, advances and writes back in one
// transaction, every changed row in one statement.
#pragma once

#include "backends/live/phase_sql.hpp"

namespace stepq::pg::sql {

// Whoever advances the network holds this row's lock: one advance at a time.
inline constexpr const char* kLockLinkClock = "SELECT at FROM link_clock WHERE id = 1 FOR UPDATE";
inline constexpr const char* kSetLinkClock = "UPDATE link_clock SET at = $1 WHERE id = 1";
inline constexpr const char* kNextTransferId = "SELECT coalesce(max(id), 0) + 1 FROM transfer";

inline constexpr const char* kOpenTransfers =
    "SELECT id, session, num, attempt, route, bytes, left_bytes, phase, at, held, arrived_at, started_at "
    "FROM transfer WHERE phase < " STEPQ_SQL_TRANSFER_DONE " ORDER BY id";

// A new transfer, delayed, as FluidLinks adds it; kSaveTransfers then writes where it got to. A
// run again after a lost connection finds it there: ignored.
inline constexpr const char* kAddTransfer =
    "INSERT INTO transfer(id, session, num, attempt, route, bytes, left_bytes, phase, at, held, arrived_at, "
    "started_at, links) VALUES ($1, $2, $3, $4, $5, $6, $6, " STEPQ_SQL_TRANSFER_DELAYED
    ", $7, 0, NULL, NULL, $8) ON CONFLICT DO NOTHING";

// Every changed transfer: $1…$7 arrays of id, left_bytes, phase, at, held, arrived_at, started_at.
inline constexpr const char* kSaveTransfers =
    "UPDATE transfer t SET left_bytes = v.l, phase = v.p, at = v.a, held = v.h, arrived_at = v.r, started_at = v.s "
    "FROM unnest($1::bigint[], $2::float8[], $3::smallint[], $4::float8[], $5::int[], $6::float8[], "
    "$7::float8[]) AS v(id, l, p, a, h, r, s) WHERE t.id = v.id";

}  // namespace stepq::pg::sql
