// SQLite's network SQL: the emulated platform's transfers (core/fluid_links.hpp) and the clock
// they were advanced to, which with_links() loads, advances and writes back in one transaction.
#pragma once

#include "backends/live/phase_sql.hpp"

namespace stepq::sqlite::sql {

inline constexpr const char* kLinkClock = "SELECT at FROM link_clock WHERE id = 1";
inline constexpr const char* kSetLinkClock = "UPDATE link_clock SET at = ?1 WHERE id = 1";
inline constexpr const char* kNextTransferId = "SELECT coalesce(max(id), 0) + 1 FROM transfer";

inline constexpr const char* kOpenTransfers =
    "SELECT id, session, num, attempt, route, bytes, left_bytes, phase, at, held, arrived_at, "
    "started_at FROM transfer WHERE phase < " STEPQ_SQL_TRANSFER_DONE " ORDER BY id";

// A step run again after its transaction's fate was unknown adds what is there already: ignored.
inline constexpr const char* kAddTransfer =
    "INSERT INTO transfer(id, session, num, attempt, route, bytes, left_bytes, phase, at, held, "
    "arrived_at, started_at, links) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
    "ON CONFLICT DO NOTHING";

// The parameters are kAddTransfer's: a changed and an added transfer are bound alike.
inline constexpr const char* kChangeTransfer =
    "UPDATE transfer SET left_bytes = ?7, phase = ?8, at = ?9, held = ?10, arrived_at = ?11, "
    "started_at = ?12 WHERE id = ?1";

}  // namespace stepq::sqlite::sql
