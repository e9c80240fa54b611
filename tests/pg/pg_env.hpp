// Where the PostgreSQL tests find a server: $STEPQ_TEST_PG (a URL of an existing server whose
// user may create databases), or the throwaway server CTest's `pg` fixture started
// (scripts/pg_server.sh; its URL in the file named by $STEPQ_TEST_PG_FILE). Every test works in
// a database of its own, so tests can run side by side.
#pragma once
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace stepq::test {

inline std::string pg_server_url() {
  if (const char* u = std::getenv("STEPQ_TEST_PG"); u && *u) return u;
  if (const char* f = std::getenv("STEPQ_TEST_PG_FILE"); f && *f) {
    std::ifstream in(f);
    std::string url;
    if (in >> url) return url;
    throw std::runtime_error(std::string("no server URL in ") + f + ": did the pg fixture (pg.server.start) run?");
  }
  throw std::runtime_error(
      "no PostgreSQL server for this test: run it through ctest (the `pg` fixture starts one) "
      "or set STEPQ_TEST_PG=postgresql://USER@HOST:PORT/postgres");
}

// The server URL with its database replaced by `db`.
inline std::string pg_url_with_db(const std::string& server, const std::string& db) {
  const auto scheme = server.find("://");
  const auto slash = server.find('/', scheme + 3);
  const auto query = server.find('?', scheme + 3);
  const std::string head =
      server.substr(0, slash == std::string::npos ? (query == std::string::npos ? server.size() : query) : slash);
  const std::string tail = query == std::string::npos ? "" : server.substr(query);
  return head + "/" + db + tail;
}

// A database name no other test uses (created by `live init` / PgStore(url, true)).
inline std::string fresh_pg_url(const std::string& what) {
  static std::atomic<int> n{0};
  return pg_url_with_db(pg_server_url(), "stepq_" + what + "_" + std::to_string(getpid()) + "_" + std::to_string(n++));
}

}  // namespace stepq::test
