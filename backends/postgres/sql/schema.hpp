// PostgreSQL's schema: the tables and server functions as numbered migrations (schema.cpp), the
// version table stepq_meta that says how many ran, the lock that lets one process at a time
// migrate, and the CREATE DATABASE of `live init`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace stepq::pg::sql {

// migrations()[v] takes the schema from version v to v + 1.
const std::vector<const char*>& migrations();

inline constexpr const char* kHasMeta = "SELECT to_regclass('stepq_meta') IS NOT NULL";
inline constexpr const char* kCreateMeta = "CREATE TABLE IF NOT EXISTS stepq_meta (version int NOT NULL)";
inline constexpr const char* kReadVersion = "SELECT version FROM stepq_meta";
inline std::string update_version(int v) { return "UPDATE stepq_meta SET version = " + std::to_string(v); }
inline std::string insert_version(int v) { return "INSERT INTO stepq_meta VALUES (" + std::to_string(v) + ")"; }

// Advisory lock keys (pg_advisory_*) are any constants that nothing else in the database uses;
// 0x73746570 is "step". The others: submission.hpp, processors.hpp.
inline constexpr std::int64_t kLockMigrate = 0x7374657000000001;
inline std::string lock_migrate() { return "SELECT pg_advisory_xact_lock(" + std::to_string(kLockMigrate) + ")"; }

// `ident`: the database's name, quoted as an identifier.
inline std::string create_database(const std::string& ident) { return "CREATE DATABASE " + ident; }

}  // namespace stepq::pg::sql
