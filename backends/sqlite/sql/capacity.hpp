// SQLite's capacity SQL: the clusters' nodes and the storage areas that every process shares,
// as bind() seeds them from the scenario, and what a session's launch (queue, admission, place),
// delete (give back) and storage steps (reserve, free) do to them. The admission policy itself
// is C++ (core/cluster.hpp); these read its input and write its placements.
#pragma once

namespace stepq::sqlite::sql {

// ---- seeding from the scenario ----

inline constexpr const char* kClusterNodes =
    "SELECT cores, memory_GB FROM cluster_node WHERE cluster = ?1 ORDER BY node";
inline constexpr const char* kClusterHeld =
    "SELECT count(*) FROM session WHERE cluster = ?1 AND compute IN ('queued', 'placed')";
inline constexpr const char* kDeleteClusterNodes = "DELETE FROM cluster_node WHERE cluster = ?1";
// A node starts with all of its cores and memory free.
inline constexpr const char* kInsertClusterNode =
    "INSERT INTO cluster_node(cluster, node, cores, memory_GB, free_cores, free_memory_GB) VALUES (?1, ?2, ?3, ?4, "
    "?3, ?4)";

inline constexpr const char* kAreaQuota = "SELECT quota_bytes FROM storage_area WHERE name = ?1";
inline constexpr const char* kAreaHeld = "SELECT count(*) FROM reservation WHERE area = ?1";
inline constexpr const char* kUpsertArea =
    "INSERT INTO storage_area(name, quota_bytes, free_bytes) VALUES (?1, ?2, ?2) "
    "ON CONFLICT(name) DO UPDATE SET quota_bytes = ?2, free_bytes = ?2";

// ---- admission of a cluster's queue ----

inline constexpr const char* kFreeNodes =
    "SELECT free_cores, free_memory_GB FROM cluster_node WHERE cluster = ?1 ORDER BY node";
inline constexpr const char* kQueuedSessions =
    "SELECT id, cores, memory_GB, owner FROM session WHERE cluster = ?1 AND compute = 'queued' "
    "ORDER BY submitted_at, id";
inline constexpr const char* kPlaceSession =
    "UPDATE session SET compute = 'placed', node = ?2, admitted_at = ?3 WHERE id = ?1";
inline constexpr const char* kSetNodeFree =
    "UPDATE cluster_node SET free_cores = ?3, free_memory_GB = ?4 WHERE cluster = ?1 AND node = ?2";

// ---- a session's compute: launch, poll, running, delete ----

inline constexpr const char* kSessionCluster = "SELECT compute IS NOT NULL, cluster, owner FROM session WHERE id = ?1";
// ?1 cluster, ?2 owner: what the user holds or waits for there (user_limit).
inline constexpr const char* kUserHeld =
    "SELECT count(*) FROM session WHERE cluster = ?1 AND owner = ?2 AND compute IN ('queued', 'placed')";
inline constexpr const char* kQueueSession = "UPDATE session SET compute = 'queued', submitted_at = ?2 WHERE id = ?1";
inline constexpr const char* kSessionCompute = "SELECT compute, submitted_at, admitted_at FROM session WHERE id = ?1";
inline constexpr const char* kSessionRunning =
    "UPDATE session SET running_at = ?2 WHERE id = ?1 AND running_at IS NULL";
inline constexpr const char* kSessionRequest =
    "SELECT compute, cluster, node, cores, memory_GB FROM session WHERE id = ?1";
inline constexpr const char* kGiveBackNode =
    "UPDATE cluster_node SET free_cores = free_cores + ?3, free_memory_GB = free_memory_GB + ?4 "
    "WHERE cluster = ?1 AND node = ?2";
inline constexpr const char* kReleaseSession = "UPDATE session SET compute = 'released' WHERE id = ?1";

// ---- storage: ?1 session, ?2 step num ----

inline constexpr const char* kHaveReservation = "SELECT 1 FROM reservation WHERE session = ?1 AND num = ?2";
// ?1 area, ?2 bytes: no row changed when they do not fit.
inline constexpr const char* kTakeBytes =
    "UPDATE storage_area SET free_bytes = free_bytes - ?2 WHERE name = ?1 AND free_bytes + 1e-9 >= ?2";
inline constexpr const char* kInsertReservation =
    "INSERT INTO reservation(session, num, area, bytes, temp) VALUES (?1, ?2, ?3, ?4, ?5)";
// The session's WriteTemp reservations, given back (?1 session), then deleted.
inline constexpr const char* kFreeTemp =
    "UPDATE storage_area SET free_bytes = free_bytes + (SELECT coalesce(sum(bytes), 0) FROM reservation "
    "WHERE session = ?1 AND temp = 1 AND area = storage_area.name)";
inline constexpr const char* kDeleteTemp = "DELETE FROM reservation WHERE session = ?1 AND temp = 1";

}  // namespace stepq::sqlite::sql
