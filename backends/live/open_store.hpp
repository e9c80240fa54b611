// `--db URL` → a LiveStore: sqlite:PATH (the default, sqlite:stepq.db) or
// postgresql://USER@HOST:PORT/DB.
#pragma once
#include <memory>
#include <string>

#include "store.hpp"

namespace stepq::live {

// `create`: make a missing SQLite file (live init). Throws StoreError for a URL it cannot serve,
// sqlite::DbError for a file SQLite cannot use.
std::unique_ptr<LiveStore> open_store(const std::string& url, bool create);

}  // namespace stepq::live
