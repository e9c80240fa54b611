// A thin layer over libpq: connections, results, statements prepared once per connection, a pool
// with one connection per concurrent caller, and errors sorted into what a caller does next:
// reconnect (ConnLost), run again (Retry: deadlock, serialization), or give up (PgError).
// libpqxx was not used: it adds a dependency for what is ~200 lines here, and its transaction
// objects cost a BEGIN/COMMIT round trip each (research/toolchain.md §4: 1,732 vs 3,094 claims/s
// on one thread), while stepq's hot statements are single autocommit statements.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace stepq::pg {

struct PgError : std::runtime_error {
  PgError(const std::string& what, std::string sqlstate) : std::runtime_error(what), sqlstate(std::move(sqlstate)) {}
  std::string sqlstate;
};
// The connection is gone or the server is going away (class 08, 57P01–57P03): reconnect. When
// it happened during a write, whether the write committed is unknown.
struct ConnLost : PgError {
  using PgError::PgError;
};
// Deadlock or serialization failure: nothing was written; run the transaction again.
struct Retry : PgError {
  using PgError::PgError;
};

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::int64_t i64(int row, int col) const;
  double f64(int row, int col) const;
  long affected() const;  // rows changed by INSERT/UPDATE/DELETE

 private:
  std::shared_ptr<PGresult> r_;
};

// Parameters go as text: what pgbench -M prepared sends too. nullptr = SQL NULL.
class Params {
 public:
  Params& add(std::int64_t v) { return put(std::to_string(v)); }
  Params& add(int v) { return put(std::to_string(v)); }
  Params& add(std::uint64_t v) { return put(std::to_string(v)); }
  Params& add(double v);
  Params& add(const std::string& v) { return put(v); }
  Params& add(const char* v) { return put(v); }
  Params& null();
  std::vector<const char*> values() const;

 private:
  Params& put(std::string v);
  std::vector<std::string> s_;
  std::vector<bool> null_;
};

class Conn {
 public:
  // Throws ConnLost naming `label` (the URL without its password) when the server cannot be reached.
  Conn(const std::string& url, const std::string& label);
  Conn(const Conn&) = delete;
  ~Conn() { PQfinish(c_); }

  Result exec(const std::string& sql);                   // simple protocol, may hold several statements
  Result exec(const std::string& sql, const Params& p);  // one statement, unnamed
  // Prepares `sql` under `name` on first use on this connection, and again at its 64th, 256th…
  // execution (see run()).
  Result run(const char* name, const std::string& sql, const Params& p);
  PGconn* raw() { return c_; }
  bool ok() const { return PQstatus(c_) == CONNECTION_OK; }
  int backend_pid() const { return PQbackendPID(c_); }

 private:
  Result check(PGresult* r);
  // The injected fault (arm_lost_reply), when `what` is its statement: sends, awaits the answer,
  // drops the connection and throws ConnLost. `send` sends the statement (a PQsend… call).
  template <class Send>
  void maybe_lose_reply(const std::string& what, Send&& send);
  PGconn* c_ = nullptr;
  std::string label_;
  struct Statement {
    std::uint64_t runs = 1, replan_at = 64;
  };
  std::unordered_map<std::string, Statement> statements_;  // prepared on this connection
};

// Connections for concurrent callers: get() takes an idle one or opens a new one; a Lease gives
// it back, unless the caller marked it broken.
class Pool {
 public:
  Pool(std::string url, std::string label) : url_(std::move(url)), label_(std::move(label)) {}
  class Lease {
   public:
    Lease(Pool& p, std::unique_ptr<Conn> c) : p_(&p), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Conn& operator*() { return *c_; }
    Conn* operator->() { return c_.get(); }
    void broken() { c_.reset(); }

   private:
    Pool* p_;
    std::unique_ptr<Conn> c_;
  };
  Lease get();
  // Backend process ids of this pool's connections: notifications they sent are our own.
  std::unordered_set<int> backend_pids();
  // Drops idle connections (after a server restart they are all dead).
  void drop_idle();
  const std::string& label() const { return label_; }
  const std::string& url() const { return url_; }

 private:
  std::string url_, label_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::unordered_set<int> pids_;
};

// Fault injection, for tests only (tests/pg/test_pg_faults.cpp): the next statement run or
// executed on any connection of this process whose prepared name or text starts with `prefix`
// is sent and answered, then its connection drops before the answer is read, and ConnLost is
// thrown. The server committed what the client never heard of: the case with_conn's in-doubt
// retries are for. One statement per arming; unset until a test arms it.
void arm_lost_reply(const std::string& prefix);
// Whether the armed fault is still waiting for its statement.
bool lost_reply_armed();

// "postgresql://user:secret@host/db" → "postgresql://user@host/db": for messages.
std::string redact(const std::string& url);

}  // namespace stepq::pg
