#include "pg.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <mutex>

#include <sys/socket.h>

namespace stepq::pg {

std::int64_t Result::i64(int row, int col) const { return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10); }
double Result::f64(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }
long Result::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return *n ? std::strtol(n, nullptr, 10) : 0;
}

Params& Params::add(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return put(b);
}
Params& Params::put(std::string v) {
  s_.push_back(std::move(v));
  null_.push_back(false);
  return *this;
}
Params& Params::null() {
  s_.emplace_back();
  null_.push_back(true);
  return *this;
}
std::vector<const char*> Params::values() const {
  std::vector<const char*> v;
  for (std::size_t i = 0; i < s_.size(); ++i) v.push_back(null_[i] ? nullptr : s_[i].c_str());
  return v;
}

namespace {

bool lost_state(const std::string& st) {
  return st.rfind("08", 0) == 0 || st == "57P01" || st == "57P02" || st == "57P03";
}

}  // namespace

Conn::Conn(const std::string& url, const std::string& label) : label_(label) {
  c_ = PQconnectdb(url.c_str());
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(c_);
    c_ = nullptr;
    throw ConnLost(label_ + ": cannot connect: " + msg, "08001");
  }
  // Server messages at NOTICE level (e.g. "relation already exists, skipping") are not for users.
  PQsetNoticeProcessor(
      c_, [](void*, const char*) {}, nullptr);
  // stepq's statements look rows up by key; a custom plan per execution would only re-plan the
  // same thing (the completion CTE takes ~1 ms to plan, longer than it takes to run). run()
  // re-plans as the tables grow.
  PGresult* r = PQexec(c_, "SET plan_cache_mode = force_generic_plan");
  PQclear(r);
}

Result Conn::check(PGresult* r) {
  Result out(r);
  const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return out;
  const char* code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string state = code ? code : "";
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.empty()) msg = PQerrorMessage(c_);
  const std::string what = label_ + ": " + msg;
  if (PQstatus(c_) != CONNECTION_OK || lost_state(state)) throw ConnLost(what, state.empty() ? "08006" : state);
  if (state == "40P01" || state == "40001") throw Retry(what, state);
  throw PgError(what, state);
}

namespace {
std::atomic<bool> fault_armed{false};  // every statement looks: no lock unless a test armed it
std::mutex fault_mu;
std::string fault_prefix;  // empty: not armed
}  // namespace

void arm_lost_reply(const std::string& prefix) {
  std::lock_guard lk(fault_mu);
  fault_prefix = prefix;
  fault_armed = !prefix.empty();
}

bool lost_reply_armed() {
  std::lock_guard lk(fault_mu);
  return !fault_prefix.empty();
}

template <class Send>
void Conn::maybe_lose_reply(const std::string& what, Send&& send) {
  if (!fault_armed.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lk(fault_mu);
    if (fault_prefix.empty() || what.rfind(fault_prefix, 0) != 0) return;
    fault_prefix.clear();
    fault_armed = false;
  }
  if (!send()) return;  // not even sent: the real call below reports it as usual
  // The whole answer is in: the statement ran (and committed, outside a transaction).
  while (PQisBusy(c_))
    if (!PQconsumeInput(c_)) break;
  shutdown(PQsocket(c_), SHUT_RDWR);  // dropped unread; PQstatus turns bad on the next use
  throw ConnLost(
      label_ + ": connection dropped before the answer to \"" + what.substr(0, 40) + "\" was read (injected)", "08006");
}

Result Conn::exec(const std::string& sql) {
  maybe_lose_reply(sql, [&] { return PQsendQuery(c_, sql.c_str()) == 1; });
  return check(PQexec(c_, sql.c_str()));
}

Result Conn::exec(const std::string& sql, const Params& p) {
  const auto v = p.values();
  maybe_lose_reply(sql, [&] {
    return PQsendQueryParams(c_, sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(), nullptr, nullptr, 0) == 1;
  });
  return check(PQexecParams(c_, sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(), nullptr, nullptr, 0));
}

// A cached plan is made with the statistics of its moment. Made while a table was empty (a new
// queue, a purged and vacuumed history) it may scan that table, and keep scanning it as it grows:
// the completion read the whole execution log per step (tests/pg/test_plans.cpp). So a statement
// is planned again at its 64th, 256th, 1024th… execution on a connection; the planner scales
// stale statistics by a table's current size, and a table that grows with the work has at most
// ~4 times the rows it had when the plan in use was made. Re-planning costs ~2 ms: at every
// power of two it made the twin test's waits 10-17% longer. Vacuum and analyze invalidate plans
// anyway; this covers a table that grows before autovacuum comes round.
Result Conn::run(const char* name, const std::string& sql, const Params& p) {
  auto [it, first] = statements_.try_emplace(name);
  Statement& st = it->second;
  if (first || ++st.runs == st.replan_at) {
    if (!first) {
      char sql_deallocate[96];
      std::snprintf(sql_deallocate, sizeof sql_deallocate, "DEALLOCATE %s", name);
      check(PQexec(c_, sql_deallocate));
      st.replan_at *= 4;
    }
    check(PQprepare(c_, name, sql.c_str(), 0, nullptr));
  }
  const auto v = p.values();
  maybe_lose_reply(name, [&] {
    return PQsendQueryPrepared(c_, name, static_cast<int>(v.size()), v.data(), nullptr, nullptr, 0) == 1;
  });
  return check(PQexecPrepared(c_, name, static_cast<int>(v.size()), v.data(), nullptr, nullptr, 0));
}

Pool::Lease::~Lease() {
  if (!c_) return;
  if (!c_->ok()) return;  // dropped with the unique_ptr
  std::lock_guard lk(p_->mu_);
  p_->idle_.push_back(std::move(c_));
}

Pool::Lease Pool::get() {
  {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
  }
  auto c = std::make_unique<Conn>(url_, label_);
  {
    std::lock_guard lk(mu_);
    pids_.insert(c->backend_pid());
  }
  return Lease(*this, std::move(c));
}

std::unordered_set<int> Pool::backend_pids() {
  std::lock_guard lk(mu_);
  return pids_;
}

void Pool::drop_idle() {
  std::lock_guard lk(mu_);
  idle_.clear();
}

std::string redact(const std::string& url) {
  // URI form only: key=value strings carry password=… which we cut likewise.
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    const auto at = url.find('@', scheme + 3);
    const auto colon = url.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      return url.substr(0, colon) + url.substr(at);
    return url;
  }
  const auto pw = url.find("password=");
  if (pw == std::string::npos) return url;
  const auto end = url.find(' ', pw);
  return url.substr(0, pw) + "password=…" + (end == std::string::npos ? "" : url.substr(end));
}

}  // namespace stepq::pg
