#include "open_store.hpp"

#include "backends/postgres/pg_store.hpp"
#include "backends/sqlite/sqlite_store.hpp"

namespace stepq::live {

std::unique_ptr<LiveStore> open_store(const std::string& url, bool create) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite://PATH reads as sqlite:PATH
    if (path.empty()) throw StoreError("--db " + url + ": no file name; expected sqlite:PATH, e.g. sqlite:stepq.db");
    return std::make_unique<sqlite::SqliteStore>(path, create);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return std::make_unique<pg::PgStore>(url, create);
  throw StoreError("--db " + url +
                   ": expected sqlite:PATH (e.g. sqlite:stepq.db) or postgresql://USER@HOST:PORT/DATABASE");
}

}  // namespace stepq::live
