// PostgreSQL's capacity SQL: the clusters' nodes and the storage areas that every process shares,
// as bind() seeds them from the scenario, and a session's launch, poll, running and delete, and
// its storage steps' reserve and free. Admission runs on the server (stepq_submit, stepq_release
// in schema.cpp), so that each of these is one statement: one round trip, one commit.
#pragma once
#include <string>

namespace stepq::pg::sql {

// ---- seeding from the scenario ----

inline constexpr const char* kClusterNodes =
    "SELECT cores, memory_gb FROM cluster_node WHERE cluster = $1 ORDER BY node FOR UPDATE";
inline constexpr const char* kClusterHeld =
    "SELECT count(*) FROM session WHERE cluster = $1 AND compute IN ('queued', 'placed')";
inline constexpr const char* kDeleteClusterNodes = "DELETE FROM cluster_node WHERE cluster = $1";
// $1 the cluster; `rows`: "(node,cores,memory),…". A node starts with all of it free.
inline std::string insert_cluster_nodes(const std::string& rows) {
  return "INSERT INTO cluster_node(cluster, node, cores, memory_gb, free_cores, free_memory_gb) "
         "SELECT $1, v.node, v.cores, v.mem, v.cores, v.mem FROM (VALUES " +
         rows + ") AS v(node, cores, mem)";
}

inline constexpr const char* kAreaQuota = "SELECT quota_bytes FROM storage_area WHERE name = $1 FOR UPDATE";
inline constexpr const char* kAreaHeld = "SELECT count(*) FROM reservation WHERE area = $1";
inline constexpr const char* kUpsertArea =
    "INSERT INTO storage_area(name, quota_bytes, free_bytes) VALUES ($1, $2, $2) "
    "ON CONFLICT (name) DO UPDATE SET quota_bytes = $2, free_bytes = $2";

// ---- a session's compute: $1 the session ----

// $2 the user's limit (0: none), $3 whether admission is FIFO. False when refused.
inline constexpr const char* kSubmitCompute = "SELECT stepq_submit($1, $2, $3)";
inline constexpr const char* kSessionCompute = "SELECT compute, submitted_at, admitted_at FROM session WHERE id = $1";
inline constexpr const char* kSessionRunning =
    "UPDATE session SET running_at = $2 WHERE id = $1 AND running_at IS NULL";
// $2 whether admission is FIFO.
inline constexpr const char* kReleaseCompute = "SELECT stepq_release($1, $2)";

// ---- storage: $1 session, $2 step num, $3 area, $4 bytes, $5 temp ----

// True when reserved, now or before (a repeated step); false when the bytes do not fit.
inline constexpr const char* kReserve =
    "WITH have AS (SELECT 1 FROM reservation WHERE session = $1 AND num = $2), "
    "take AS (UPDATE storage_area SET free_bytes = free_bytes - $4 "
    "  WHERE name = $3 AND free_bytes + 1e-9 >= $4 AND NOT EXISTS (SELECT 1 FROM have) RETURNING 1), "
    "ins AS (INSERT INTO reservation(session, num, area, bytes, temp) SELECT $1, $2, $3, $4, $5 FROM take) "
    "SELECT EXISTS (SELECT 1 FROM have) OR EXISTS (SELECT 1 FROM take)";

// The session's WriteTemp reservations, deleted and given back.
inline constexpr const char* kFreeTemp =
    "WITH d AS (DELETE FROM reservation WHERE session = $1 AND temp RETURNING area, bytes), "
    "s AS (SELECT area, sum(bytes) AS bytes FROM d GROUP BY area) "
    "UPDATE storage_area a SET free_bytes = a.free_bytes + s.bytes FROM s WHERE a.name = s.area";

}  // namespace stepq::pg::sql
