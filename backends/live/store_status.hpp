// What both databases share above their SQL dialect: the status, history and queue reads through
// the row cursor of store.hpp (the same queries on either, so both report the same fields), and
// the schema-version check.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "store.hpp"

namespace stepq::live {

// The status as of `now` (wall seconds) from the queries' rows (status_read.cpp), and the summary
// of sealed sessions to store when it moved on: (generation read, text). The caller runs the
// queries in one snapshot, so that the counts add up, and writes the summary after.
struct StatusRead {
  LiveStatus status;
  std::optional<std::pair<std::int64_t, std::string>> cache_write;
};
StatusRead read_status(const Query& query, double now, const StatusOptions& opt);

// The history since `since` (store.hpp History), its executions to `sink`.
History read_history(const Query& query, double since, HistorySink& sink);

// The queue as of `now` (store.hpp QueueState).
QueueState read_queue_state(const Query& query, double now);

// StoreError unless the database's schema version `have` is this stepq's `want`; `db` names the
// database as `--db` takes it.
void check_schema(int have, int want, const std::string& db);
// StoreError when the database is newer than this stepq (a migration cannot go back).
void check_not_newer(int have, int want, const std::string& db);

}  // namespace stepq::live
