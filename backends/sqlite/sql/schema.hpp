// SQLite's schema: the tables as numbered migrations (schema.cpp; migration i takes user_version
// i to i + 1), and the statements that read and set the version.
#pragma once
#include <string>
#include <vector>

namespace stepq::sqlite::sql {

const std::vector<const char*>& migrations();

inline constexpr const char* kReadVersion = "PRAGMA user_version";
inline std::string set_version(int v) { return "PRAGMA user_version = " + std::to_string(v); }

}  // namespace stepq::sqlite::sql
