// Reading a stepq PostgreSQL database from a test with plain libpq, independently of stepq's
// store code: the same small interface as tests/live/db_check.hpp's SqlDb.
#pragma once
#include <libpq-fe.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace stepq::test {

class PgDb {
 public:
  explicit PgDb(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) {
      const std::string e = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error("cannot connect to " + url + ": " + e);
    }
  }
  PgDb(const PgDb&) = delete;
  ~PgDb() { PQfinish(c_); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      const std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("query failed: " + e + ": " + sql);
    }
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(r); ++c) row.emplace_back(PQgetvalue(r, i, c));
      out.push_back(std::move(row));
    }
    PQclear(r);
    return out;
  }
  long long count(const std::string& sql) { return std::stoll(rows(sql).at(0).at(0)); }
  double real(const std::string& sql) { return std::stod(rows(sql).at(0).at(0)); }
  void exec(const std::string& sql) { rows(sql); }

 private:
  PGconn* c_;
};

}  // namespace stepq::test
