// The model check's driver: agents, the reference model and the comparison (model_check.hpp).
// The model is the phase machine of DESIGN §2 as a reader of the design would write it, not the
// stores' SQL: where the stores may legitimately differ (which of two orphans of one session the
// reaper takes first), the model accepts either and adopts what the database did.
#include "model/model_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/phase.hpp"
#include "core/scenario_load.hpp"

extern char** environ;

namespace stepq::test::model {

namespace {

using Rows = std::vector<std::vector<std::string>>;
constexpr const char* kOutcomes[] = {"completed", "failed", "retry", "requeue"};
constexpr double kLease = 0.2;  // the reaper's lease: live agents heartbeat just before each reap

double wall() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

struct Mismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class... A>
[[noreturn]] void mismatch(const A&... a) {
  std::ostringstream o;
  (o << ... << a);
  throw Mismatch(o.str());
}

// An agent process, spoken to through its stdin and stdout.
class Agent {
 public:
  Agent(const std::string& url, const std::filesystem::path& log) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::string bin = STEPQ_MODEL_AGENT;
    std::vector<char*> argv{bin.data(), const_cast<char*>(url.c_str()), nullptr};
    hb_lo = wall();
    const int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    if (rc != 0) throw std::runtime_error("cannot start " + bin);
    const std::string ready = receive("start");
    if (ready.rfind("ready ", 0) != 0) mismatch("agent did not start: ", ready, " (see ", log.string(), ")");
    processor = std::stoll(ready.substr(6));
    hb_hi = wall();
  }
  Agent(const Agent&) = delete;
  ~Agent() {
    if (pid_ > 0) kill9();
    close(to_);
    close(from_);
  }
  void send(const std::string& cmd) {
    const std::string line = cmd + "\n";
    if (write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) mismatch("agent gone at ", cmd);
  }
  std::string receive(const std::string& what) {
    const auto deadline = wall() + 60;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{from_, POLLIN, 0};
      const int left = static_cast<int>((deadline - wall()) * 1000);
      if (left <= 0 || poll(&p, 1, left) <= 0) mismatch("agent ", processor, " did not answer ", what, " in 60 s");
      char b[4096];
      const ssize_t n = read(from_, b, sizeof b);
      if (n <= 0) mismatch("agent ", processor, " closed its output at ", what);
      buf_.append(b, static_cast<std::size_t>(n));
    }
  }
  std::string ask(const std::string& cmd) {
    send(cmd);
    std::string r = receive(cmd);
    if (r.rfind("E ", 0) == 0) mismatch("agent ", processor, ": ", cmd, ": ", r.substr(2));
    return r;
  }
  void kill9() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }
  void wait_exit() {
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::int64_t processor = 0;
  std::string name;             // its connections' (Database::named)
  double hb_lo = 0, hb_hi = 0;  // its last heartbeat (or registration) was between these

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
};

struct Exec {
  std::uint64_t fence = 0;
  std::int64_t processor = 0;
  bool open = true;
  std::string outcome;
};

struct MStep {
  int kind = 0, max_attempts = 1;
  std::vector<int> dependents;
  Phase phase = Phase::DORMANT;
  int attempt = 1, deps_left = 0;
  std::size_t key = 0;  // the operation that set its ready_at: the claim takes the oldest
  std::optional<std::uint64_t> id;
  std::uint64_t fence = 0;
  std::int64_t holder = -1;  // RUNNING: the claiming processor
  std::vector<Exec> execs;
  // The reaper took it with another orphan of its session, one of them out of attempts: it ends
  // FAILED or CANCELLED, with its attempt or one more, as the reaper's order had it.
  bool loose = false;
};

struct MSession {
  std::uint64_t id = 0;
  std::string phase = "ACTIVE";
  int left = 0;
  std::vector<MStep> steps;
};

struct Held {
  std::size_t session = 0;
  int num = 0;
  std::uint64_t id = 0, fence = 0;
};

struct Dead {
  std::int64_t processor = 0;
  double hb_lo = 0, hb_hi = 0;
};

std::string phase_name(Phase p) { return std::string(to_string(p)); }

class Run {
 public:
  Run(const Target& t, const Scenario& sc, bool patient) : t_(t), sc_(sc), db_(t.fresh()), patient_(patient) {
    dir_ = std::filesystem::temp_directory_path() /
           ("stepq-model-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    for (int a = 0; a < 3; ++a) agents_.push_back(spawn());
    held_.resize(3);
    paused_.assign(3, false);
  }
  ~Run() {
    agents_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Coverage cov;

  std::optional<Failure> go(const std::vector<Op>& ops) {
    std::size_t i = 0;
    std::vector<bool> effective;
    try {
      for (; i < ops.size(); ++i) {
        touched_.clear();
        const auto before = std::make_tuple(dead_.size(), stopped_.size(), paused_, cov.kills);
        apply(ops[i], i);
        effective.push_back(!touched_.empty() || ops[i].type == Op::Type::pause || ops[i].type == Op::Type::restart ||
                            before != std::make_tuple(dead_.size(), stopped_.size(), paused_, cov.kills));
        check_touched();
        if ((i + 1) % 1000 == 0) check_all();
      }
      if (!ops.empty()) {
        i = ops.size() - 1;
        drain(i);
        check_all();
      }
    } catch (const Mismatch& m) {
      effective.resize(i + 1, true);
      return Failure{i, m.what(), effective};
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<Agent> spawn() {
    const std::string name = "stepq-model-" + std::to_string(spawned_++);
    auto a = std::make_unique<Agent>(db_.named ? db_.named(name) : db_.url, dir_ / "agents.log");
    a->name = name;
    return a;
  }
  // After a kill: whatever the agent's connections had sent is committed or rolled back.
  void settle(const Agent& a) {
    if (db_.settle) db_.settle(a.name);
  }

  MStep& step(std::size_t s, int num) { return sessions_.at(s).steps.at(static_cast<std::size_t>(num)); }
  std::size_t session_index(std::uint64_t id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) mismatch("session ", id, " is not one the model submitted");
    return it->second;
  }
  bool in_pool(int kind, int pool) const {
    const auto& k = sc_.pools.at(static_cast<std::size_t>(pool)).kinds;
    return std::find(k.begin(), k.end(), kind) != k.end();
  }
  Exec& exec(MStep& s, std::uint64_t fence) {
    for (auto& e : s.execs)
      if (e.fence == fence) return e;
    mismatch("no execution of fence ", fence);
  }

  void end_session(std::size_t si, const std::string& phase) {
    auto& ss = sessions_[si];
    ss.phase = phase;
    for (auto& st : ss.steps)
      if (!is_terminal(st.phase)) st.phase = Phase::CANCELLED;
    active_.erase(si);
  }

  void apply(const Op& op, std::size_t i) {
    const auto slot = static_cast<std::size_t>(op.agent);
    if (paused_[slot]) {
      // Stopped until a reap has declared it dead (then it wakes a zombie): it does nothing.
      const auto p = agents_[slot]->processor;
      if (std::any_of(dead_.begin(), dead_.end(), [&](const Dead& d) { return d.processor == p; })) return;
      wake(op.agent);
    }
    Agent& a = *agents_[static_cast<std::size_t>(op.agent)];
    switch (op.type) {
      case Op::Type::submit: return submit(a, i);
      case Op::Type::claim: {
        const int pool = static_cast<int>(op.pick % sc_.pools.size());
        const std::string r = a.ask("claim " + std::to_string(pool));
        if (r == "-") {
          ++cov.empty_claims;
          for (auto si : active_)
            for (auto& st : sessions_[si].steps)
              if (st.phase == Phase::READY && in_pool(st.kind, pool))
                mismatch("an empty claim on pool ", pool, " while session ", sessions_[si].id, " has a READY step");
          return;
        }
        return claimed(op.agent, pool, r);
      }
      case Op::Type::finish: return finish(op, i);
      case Op::Type::cancel: {
        if (sessions_.empty()) return;
        const std::size_t si = op.pick % sessions_.size();
        auto& ss = sessions_[si];
        const std::string r = a.ask("cancel " + std::to_string(ss.id));
        std::string want = "finished 0";
        if (ss.phase == "ACTIVE") {
          int n = 0;
          for (auto& st : ss.steps) n += !is_terminal(st.phase);
          want = "cancelled " + std::to_string(n);
          ++cov.cancelled;
          end_session(si, "CANCELLED");
          touched_.insert(si);
        }
        if (r != want) mismatch("cancel of session ", ss.id, " answered '", r, "', the model says '", want, "'");
        return;
      }
      case Op::Type::promote: {
        a.ask("promote");
        for (auto si : active_)
          for (auto& st : sessions_[si].steps)
            if (st.phase == Phase::WAITING) {
              st.phase = Phase::READY;  // ready_at = not_before: the key of the finish that set it
              ++cov.promoted;
              touched_.insert(si);
            }
        return;
      }
      case Op::Type::heartbeat: return heartbeat(a);
      case Op::Type::reap: return reap(a, i);
      case Op::Type::stop: return stop(op.agent, i);
      case Op::Type::kill: {
        a.kill9();
        ++cov.kills;
        dead_.push_back({a.processor, a.hb_lo, a.hb_hi});
        return respawn(op.agent);
      }
      case Op::Type::kill_in_flight: return kill_in_flight(op, i);
      case Op::Type::pause:
        // One agent always runs: only a running agent reaps, and a paused one waits to be reaped,
        // so three paused at once would wait for ever (random seeds got there in 1-5 s and then
        // did nothing for the rest of their operations).
        if (std::count(paused_.begin(), paused_.end(), true) == 2) return;
        paused_[slot] = true;
        a.signal(SIGSTOP);
        dead_.push_back({a.processor, a.hb_lo, a.hb_hi});
        return;
      case Op::Type::restart:
        if (t_.restart) t_.restart();
        cov.restarts += static_cast<bool>(t_.restart);
        return;
    }
  }

  void submit(Agent& a, std::size_t i) {
    const std::uint64_t id = std::stoull(a.ask("submit"));
    if (!sessions_.empty() && id <= sessions_.back().id)
      mismatch("submit returned session ", id, " after ", sessions_.back().id);
    MSession ss;
    ss.id = id;
    const auto& tmpl = sc_.templates.at(0);
    ss.left = tmpl.startup_steps;
    ss.steps.resize(static_cast<std::size_t>(tmpl.startup_steps));
    for (int n = 0; n < tmpl.startup_steps; ++n) {
      const auto& ps = tmpl.steps[static_cast<std::size_t>(n)];
      auto& st = ss.steps[static_cast<std::size_t>(n)];
      st.kind = ps.kind;
      st.max_attempts = sc_.kinds.at(static_cast<std::size_t>(ps.kind)).retry.max_attempts;
      st.deps_left = static_cast<int>(ps.after.size());
      for (int p : ps.after) ss.steps[static_cast<std::size_t>(p)].dependents.push_back(n);
      st.phase = st.deps_left == 0 ? Phase::READY : Phase::DORMANT;
      st.key = i;
    }
    by_id_[id] = sessions_.size();
    active_.insert(sessions_.size());
    touched_.insert(sessions_.size());
    sessions_.push_back(std::move(ss));
  }

  // A claim's answer "S id fence session num attempt", by `agent` (or by a killed one's processor).
  void claimed(int agent, int pool, const std::string& r, std::int64_t processor = -1) {
    std::istringstream in(r);
    std::string tag;
    std::uint64_t id = 0, fence = 0, sid = 0;
    int num = 0, attempt = 0;
    in >> tag >> id >> fence >> sid >> num >> attempt;
    if (tag != "S" || !in) mismatch("claim answered '", r, "'");
    const std::size_t si = session_index(sid);
    MStep& st = step(si, num);
    touched_.insert(si);
    const std::string what = "claim of session " + std::to_string(sid) + " step " + std::to_string(num);
    if (st.phase != Phase::READY) mismatch(what, ": the step is ", phase_name(st.phase), " in the model");
    if (!in_pool(st.kind, pool)) mismatch(what, ": its kind is not in pool ", pool);
    for (auto o : active_)
      for (std::size_t n = 0; n < sessions_[o].steps.size(); ++n) {
        const auto& other = sessions_[o].steps[n];
        if (other.phase == Phase::READY && in_pool(other.kind, pool) && other.key < st.key)
          mismatch(what, " (READY since operation ", st.key, ") while session ", sessions_[o].id, " step ", n,
                   " was READY since operation ", other.key);
      }
    if (attempt != st.attempt) mismatch(what, ": attempt ", attempt, ", the model says ", st.attempt);
    if (st.id && *st.id != id) mismatch(what, ": step id ", id, ", earlier ", *st.id);
    if (!st.execs.empty() && fence <= st.fence) mismatch(what, ": fence ", fence, " did not move from ", st.fence);
    const std::int64_t proc = processor >= 0 ? processor : agents_[static_cast<std::size_t>(agent)]->processor;
    st.phase = Phase::RUNNING;
    st.id = id;
    st.fence = fence;
    st.holder = proc;
    st.execs.push_back({fence, proc, true, ""});
    if (processor < 0) held_[static_cast<std::size_t>(agent)].push_back({si, num, id, fence});
    ++cov.claimed;
  }

  // Whether the holder's finish counts: the step is still RUNNING under its claim's fence.
  bool counts(const Held& h) {
    const MStep& st = step(h.session, h.num);
    return st.phase == Phase::RUNNING && st.fence == h.fence;
  }

  // The model's effect of a finish that committed (counted or not).
  void finished(const Held& h, int outcome, std::size_t i) {
    MStep& st = step(h.session, h.num);
    touched_.insert(h.session);
    Exec& e = exec(st, h.fence);
    if (!e.open && e.outcome == "reaped") {  // a zombie's late finish: refused, the log unchanged
      ++cov.lost_finishes;
      return;
    }
    if (!e.open)
      mismatch("a finish of session ", sessions_[h.session].id, " step ", h.num, " fence ", h.fence,
               " whose execution had ended (", e.outcome, ")");
    e.open = false;
    if (!counts(h)) {
      e.outcome = "lost";
      ++cov.lost_finishes;
      return;
    }
    e.outcome = kOutcomes[outcome];
    ++cov.finished[outcome];
    st.holder = -1;
    auto& ss = sessions_[h.session];
    switch (outcome) {
      case 0:
        st.phase = Phase::COMPLETED;
        for (int d : st.dependents) {
          MStep& dep = ss.steps[static_cast<std::size_t>(d)];
          if (--dep.deps_left == 0 && dep.phase == Phase::DORMANT) {
            dep.phase = Phase::READY;
            dep.key = i;
          }
        }
        if (--ss.left == 0) {
          ss.phase = "COMPLETED";
          active_.erase(h.session);
        }
        break;
      case 1:
        st.phase = Phase::FAILED;
        end_session(h.session, "FAILED");
        break;
      default:  // retry counts an attempt, a requeue does not; WAITING until the next promote
        st.phase = Phase::WAITING;
        st.key = i;
        if (outcome == 2 || t_.planted) ++st.attempt;
    }
  }

  void finish(const Op& op, std::size_t i) {
    auto& held = held_[static_cast<std::size_t>(op.agent)];
    if (held.empty()) return;
    const std::size_t k = op.pick % held.size();
    const Held h = held[k];
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
    const bool want = counts(h);
    const std::string r = agents_[static_cast<std::size_t>(op.agent)]->ask(
        "finish " + std::to_string(h.id) + " " + std::to_string(h.fence) + " " + kOutcomes[op.outcome]);
    if (r != (want ? "1" : "0"))
      mismatch("finish (", kOutcomes[op.outcome], ") of session ", sessions_[h.session].id, " step ", h.num, " fence ",
               h.fence, " answered ", r, ", the model says ", want ? 1 : 0);
    finished(h, op.outcome, i);
  }

  // A paused agent resumes. Declared dead meanwhile, it is a zombie: its heartbeat says so and
  // registers it again; the steps it still believes it holds were reaped.
  void wake(int agent) {
    Agent& a = *agents_[static_cast<std::size_t>(agent)];
    paused_[static_cast<std::size_t>(agent)] = false;
    a.signal(SIGCONT);
    auto d = std::find_if(dead_.begin(), dead_.end(), [&](const Dead& x) { return x.processor == a.processor; });
    if (d != dead_.end()) {
      dead_.erase(d);
      return;
    }
    const double lo = wall();
    if (a.ask("heartbeat") != "0") mismatch("processor ", a.processor, " was reaped, but its heartbeat succeeded");
    const auto id =
        db_.rows("SELECT id FROM processor WHERE pid = " + std::to_string(a.pid()) + " AND stopped_at IS NULL");
    if (id.size() != 1) mismatch("a zombie's heartbeat left ", id.size(), " live processors of its pid");
    a.processor = std::stoll(id[0][0]);
    a.hb_lo = lo;
    a.hb_hi = wall();
    ++cov.zombies;
  }

  void heartbeat(Agent& a) {
    const double lo = wall();
    if (a.ask("heartbeat") != "1") mismatch("live processor ", a.processor, " was declared dead");
    a.hb_lo = lo;
    a.hb_hi = wall();
  }

  void reap(Agent& reaper, std::size_t i) {
    if (patient_) wait_past_lease();
    for (std::size_t k = 0; k < agents_.size(); ++k)
      if (!paused_[k]) heartbeat(*agents_[k]);
    const double sent = wall();
    const int n = std::stoi(reaper.ask("reap " + std::to_string(kLease)));
    // Which processors it declared dead: the database says; the model checks that they are dead
    // ones and that every one silent for longer than the lease is among them.
    std::set<std::int64_t> now_dead;
    for (const auto& row : db_.rows("SELECT id FROM processor WHERE stopped_at IS NOT NULL")) {
      const std::int64_t id = std::stoll(row.at(0));
      if (!stopped_.count(id)) now_dead.insert(id);
    }
    // A live agent may be declared dead only if its last heartbeat really was older than the lease
    // when the reap ended (a stalled machine); it is then a zombie, as a paused one would be.
    const double ended = wall();
    std::vector<int> zombies;
    for (auto id : now_dead)
      if (std::none_of(dead_.begin(), dead_.end(), [&](const Dead& d) { return d.processor == id; })) {
        int k = 0;
        while (k < 3 && agents_[static_cast<std::size_t>(k)]->processor != id) ++k;
        if (k == 3 || ended - agents_[static_cast<std::size_t>(k)]->hb_lo <= kLease)
          mismatch("the reaper stopped processor ", id, ", which heartbeats");
        zombies.push_back(k);
      }
    for (const auto& d : dead_)
      if (d.hb_hi < sent - kLease - 0.01 && !now_dead.count(d.processor))
        mismatch("the reaper left processor ", d.processor, ", silent for ", sent - d.hb_hi, " s (lease ", kLease,
                 " s)");
    stopped_.insert(now_dead.begin(), now_dead.end());
    dead_.erase(std::remove_if(dead_.begin(), dead_.end(), [&](const Dead& d) { return now_dead.count(d.processor); }),
                dead_.end());
    // The orphans, in the order of their step ids.
    std::vector<std::pair<std::uint64_t, std::pair<std::size_t, int>>> orphans;
    std::map<std::size_t, int> per_session, out_of_attempts;
    for (auto si : active_)
      for (std::size_t num = 0; num < sessions_[si].steps.size(); ++num) {
        const MStep& st = sessions_[si].steps[num];
        if (st.phase == Phase::RUNNING && now_dead.count(st.holder)) {
          orphans.push_back({*st.id, {si, static_cast<int>(num)}});
          ++per_session[si];
          if (st.attempt >= st.max_attempts) ++out_of_attempts[si];
        }
      }
    std::sort(orphans.begin(), orphans.end());
    cov.reaped += static_cast<int>(orphans.size());
    if (n != static_cast<int>(orphans.size()))
      mismatch("the reaper reaped ", n, " steps, the model has ", orphans.size(), " orphans");
    for (const auto& [id, where] : orphans) {
      const auto [si, num] = where;
      MStep& st = step(si, num);
      touched_.insert(si);
      Exec& e = exec(st, st.fence);
      e.open = false;
      e.outcome = "reaped";
      st.loose = per_session[si] > 1 && out_of_attempts[si] > 0;
      if (st.phase != Phase::RUNNING) continue;  // cancelled by an earlier orphan's failure
      st.holder = -1;
      if (st.attempt >= st.max_attempts) {
        st.phase = Phase::FAILED;
        end_session(si, "FAILED");
      } else {
        st.phase = Phase::READY;
        ++st.attempt;
        st.key = i;
      }
    }
    // Executions of the dead whose steps were cancelled while they held them end too.
    for (std::size_t si = 0; si < sessions_.size(); ++si)
      for (auto& st : sessions_[si].steps)
        for (auto& e : st.execs)
          if (e.open && now_dead.count(e.processor)) {
            e.open = false;
            e.outcome = "reaped";
            touched_.insert(si);
          }
    for (int k : zombies) {  // its next heartbeat finds it dead and registers it again
      paused_[static_cast<std::size_t>(k)] = true;
      wake(k);
    }
  }

  void stop(int agent, std::size_t i) {
    Agent& a = *agents_[static_cast<std::size_t>(agent)];
    const int n = std::stoi(a.ask("stop"));
    int want = 0;
    for (std::size_t si = 0; si < sessions_.size(); ++si)
      for (auto& st : sessions_[si].steps) {
        for (auto& e : st.execs)
          if (e.open && e.processor == a.processor) {
            e.open = false;
            e.outcome = st.phase == Phase::RUNNING && st.holder == a.processor ? "released" : "lost";
            touched_.insert(si);
          }
        if (st.phase == Phase::RUNNING && st.holder == a.processor) {
          ++want;
          st.phase = Phase::READY;  // the same attempt: a graceful stop is not the step's failure
          st.holder = -1;
          st.key = i;
        }
      }
    if (n != want) mismatch("a graceful stop handed back ", n, " steps, the model says ", want);
    cov.released += want;
    stopped_.insert(a.processor);
    a.wait_exit();
    respawn(agent);
  }

  void kill_in_flight(const Op& op, std::size_t i) {
    Agent& a = *agents_[static_cast<std::size_t>(op.agent)];
    auto& held = held_[static_cast<std::size_t>(op.agent)];
    const bool finishing = op.outcome == 1 && !held.empty();
    const int pool = static_cast<int>(op.pick % sc_.pools.size());
    const int outcome = static_cast<int>(op.pick % 4);
    Held h;
    if (finishing) {
      h = held[op.pick % held.size()];
      a.send("finish " + std::to_string(h.id) + " " + std::to_string(h.fence) + " " + kOutcomes[outcome]);
    } else {
      a.send("claim " + std::to_string(pool));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(op.pick % 3000));
    a.kill9();
    settle(a);
    ++cov.kills;
    dead_.push_back({a.processor, a.hb_lo, a.hb_hi});
    // What got in before the kill: the database says, and the model checks it is a legal effect.
    if (finishing) {
      const auto row = db_.rows(
          "SELECT CASE WHEN ended_at IS NULL THEN 1 ELSE 0 END, coalesce(outcome, '') FROM "
          "execution WHERE step = " +
          std::to_string(h.id) + " AND fence = " + std::to_string(h.fence));
      if (row.size() != 1) mismatch("the execution of step id ", h.id, " fence ", h.fence, " is missing");
      const Exec& e = exec(step(h.session, h.num), h.fence);
      if (!e.open) {  // reaped while its processor was paused: a finish could change nothing
        if (row[0][0] != "0" || row[0][1] != e.outcome)
          mismatch("a zombie's killed finish left its execution ", row[0][0] == "1" ? "open" : row[0][1], ", not ",
                   e.outcome);
      } else if (row[0][0] == "0") {
        const std::string want = counts(h) ? kOutcomes[outcome] : "lost";
        if (row[0][1] != want) mismatch("a killed finish ended its execution as '", row[0][1], "', not '", want, "'");
        finished(h, outcome, i);
        ++cov.in_doubt_committed;
      } else {
        ++cov.in_doubt_not;
      }
    } else {
      const auto rows = db_.rows("SELECT id, fence, session, num, attempt FROM step WHERE phase = " +
                                 std::to_string(static_cast<int>(Phase::RUNNING)) +
                                 " AND processor = " + std::to_string(a.processor));
      int fresh = 0;
      for (const auto& row : rows) {
        const std::size_t si = session_index(std::stoull(row.at(2)));
        const MStep& st = step(si, std::stoi(row.at(3)));
        if (st.phase == Phase::RUNNING && st.holder == a.processor) continue;  // held before
        if (++fresh > 1) mismatch("one killed claim made ", fresh, " steps RUNNING");
        claimed(op.agent, pool, "S " + row[0] + " " + row[1] + " " + row[2] + " " + row[3] + " " + row[4], a.processor);
      }
      ++(fresh ? cov.in_doubt_committed : cov.in_doubt_not);
    }
    respawn(op.agent);
  }

  void respawn(int agent) {
    held_[static_cast<std::size_t>(agent)].clear();
    agents_[static_cast<std::size_t>(agent)] = spawn();
  }

  void wait_past_lease() {
    double youngest = 0;
    for (const auto& d : dead_) youngest = std::max(youngest, d.hb_hi);
    const double wait = youngest + kLease + 0.05 - wall();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }

  // The end of a run: every dead processor reaped, so every execution of theirs has ended.
  void drain(std::size_t i) {
    for (int a = 0; a < 3; ++a)
      if (paused_[static_cast<std::size_t>(a)]) wake(a);
    if (dead_.empty()) return;
    wait_past_lease();
    touched_.clear();
    reap(*agents_[0], i);
    if (!dead_.empty()) mismatch("processors still unreaped after a lease");
  }

  // ---- the comparison -------------------------------------------------------------------------

  void compare_step(const MSession& ss, std::size_t num, MStep& st, const std::string& phase, const std::string& att) {
    const int db_phase = std::stoi(phase), db_attempt = std::stoi(att);
    const std::string where = "session " + std::to_string(ss.id) + " step " + std::to_string(num);
    if (st.loose) {
      const bool ok_phase = db_phase == int(Phase::FAILED) || db_phase == int(Phase::CANCELLED);
      if (!ok_phase || (db_attempt != st.attempt && db_attempt != st.attempt + 1))
        mismatch(where, ": phase ", db_phase, " attempt ", db_attempt, " after the reaper; the model allows FAILED or ",
                 "CANCELLED at attempt ", st.attempt, " or ", st.attempt + 1);
      st.phase = static_cast<Phase>(db_phase);
      st.attempt = db_attempt;
      st.loose = false;
      return;
    }
    if (db_phase != int(st.phase) || db_attempt != st.attempt)
      mismatch(where, ": the database has ", phase_name(static_cast<Phase>(db_phase)), " attempt ", db_attempt,
               ", the model ", phase_name(st.phase), " attempt ", st.attempt);
  }

  // rows: (num, fence, open, outcome) of one session, by num and fence.
  void compare_execs(const MSession& ss, const Rows& rows, std::size_t from, std::size_t to) {
    std::vector<std::tuple<int, std::uint64_t, bool, std::string>> want, got;
    for (std::size_t n = 0; n < ss.steps.size(); ++n)
      for (const auto& e : ss.steps[n].execs) want.emplace_back(int(n), e.fence, e.open, e.open ? "" : e.outcome);
    std::sort(want.begin(), want.end());
    for (std::size_t r = from; r < to; ++r)
      got.emplace_back(std::stoi(rows[r][0]), std::stoull(rows[r][1]), rows[r][2] == "1", rows[r][3]);
    std::sort(got.begin(), got.end());
    if (want == got) return;
    std::ostringstream o;
    o << "session " << ss.id << "'s executions differ. database:";
    for (auto& [n, f, open, out] : got) o << " [step " << n << " fence " << f << (open ? " open" : " " + out) << "]";
    o << "; model:";
    for (auto& [n, f, open, out] : want) o << " [step " << n << " fence " << f << (open ? " open" : " " + out) << "]";
    throw Mismatch(o.str());
  }

  // After every operation, in one round trip (the check's cost is mostly round trips): the touched
  // sessions whole, and totals over the whole database, where a write that strayed outside the
  // touched sessions shows. Every column is text, so that the dialects agree on the union's types.
  void check_touched() {
    std::string ids;
    for (auto si : touched_) ids += (ids.empty() ? "" : ",") + std::to_string(sessions_[si].id);
    std::string sql = kTotals;
    if (!ids.empty())
      sql += " UNION ALL SELECT 'p', CAST(id AS TEXT), phase, '', '' FROM session WHERE id IN (" + ids +
             ") UNION ALL SELECT 't', CAST(session AS TEXT), CAST(num AS TEXT), CAST(phase AS TEXT), "
             "CAST(attempt AS TEXT) FROM step WHERE session IN (" +
             ids +
             ") UNION ALL SELECT 'e', CAST(s.session AS TEXT), CAST(s.num AS TEXT), CAST(e.fence AS TEXT), "
             "CASE WHEN e.ended_at IS NULL THEN '1' ELSE '0' END || coalesce(e.outcome, '') FROM execution e "
             "JOIN step s ON s.id = e.step WHERE s.session IN (" +
             ids + ")";
    Rows totals;
    std::map<std::uint64_t, Rows> phase, steps, execs;
    for (auto& row : db_.rows(sql)) {
      const std::string& tag = row[0];
      if (tag == "p") phase[std::stoull(row[1])].push_back({row[2]});
      else if (tag == "t") steps[std::stoull(row[1])].push_back({row[2], row[3], row[4]});
      else if (tag == "e")
        execs[std::stoull(row[1])].push_back({row[2], row[3], row[4].substr(0, 1), row[4].substr(1)});
      else totals.push_back(std::move(row));
    }
    for (auto si : touched_) {
      const std::uint64_t id = sessions_[si].id;
      auto& st = steps[id];
      std::sort(st.begin(), st.end(), [](const auto& a, const auto& b) { return std::stoi(a[0]) < std::stoi(b[0]); });
      compare_session(si, phase[id], st, execs[id]);
    }
    compare_counts(totals);
  }

  // One session: its phase row, its steps (num, phase, attempt) by num, its executions (num,
  // fence, open, outcome) in any order.
  void compare_session(std::size_t si, const Rows& phase, const Rows& steps, const Rows& execs) {
    MSession& ss = sessions_[si];
    const std::string id = std::to_string(ss.id);
    if (phase.size() != 1 || phase[0][0] != ss.phase)
      mismatch("session ", id, " is ", phase.empty() ? "missing" : phase[0][0], ", the model says ", ss.phase);
    if (steps.size() != ss.steps.size()) mismatch("session ", id, " has ", steps.size(), " steps");
    for (std::size_t n = 0; n < steps.size(); ++n) compare_step(ss, n, ss.steps[n], steps[n][1], steps[n][2]);
    compare_execs(ss, execs, 0, execs.size());
  }

  // Totals: steps by phase, sessions by phase, open executions, completed executions (and of how
  // many steps), as kTotals reads them.
  static constexpr const char* kTotals =
      "SELECT 's', CAST(phase AS TEXT), CAST(count(*) AS TEXT), '', '' FROM step GROUP BY phase "
      "UNION ALL SELECT 'x', phase, CAST(count(*) AS TEXT), '', '' FROM session GROUP BY phase "
      "UNION ALL SELECT 'o', '', CAST(count(*) AS TEXT), '', '' FROM execution WHERE ended_at IS NULL "
      "UNION ALL SELECT 'c', CAST(count(DISTINCT step) AS TEXT), CAST(count(*) AS TEXT), '', '' FROM execution "
      "WHERE outcome = 'completed'";

  void compare_counts(const Rows& totals) {
    std::map<int, long long> steps;
    std::map<std::string, long long> sessions;
    long long open = 0, completed = 0;
    for (const auto& ss : sessions_) {
      ++sessions[ss.phase];
      for (const auto& st : ss.steps) {
        ++steps[int(st.phase)];
        for (const auto& e : st.execs) open += e.open;
      }
    }
    completed = steps[int(Phase::COMPLETED)];
    std::map<int, long long> db_steps;
    std::map<std::string, long long> db_sessions;
    long long db_open = 0, db_completed = 0, db_completed_steps = 0;
    for (const auto& row : totals) {
      const long long n = std::stoll(row[2]);
      if (row[0] == "s") db_steps[std::stoi(row[1])] = n;
      if (row[0] == "x") db_sessions[row[1]] = n;
      if (row[0] == "o") db_open = n;
      if (row[0] == "c") db_completed = n, db_completed_steps = std::stoll(row[1]);
    }
    for (int p = 0; p <= int(Phase::CANCELLED); ++p)
      if (db_steps[p] != steps[p])
        mismatch(db_steps[p], " steps are ", phase_name(static_cast<Phase>(p)), ", the model has ", steps[p]);
    for (const auto& name : {"ACTIVE", "COMPLETED", "FAILED", "CANCELLED"})
      if (db_sessions[name] != sessions[name])
        mismatch(db_sessions[name], " sessions are ", name, ", the model has ", sessions[name]);
    if (db_sessions.size() > 4) mismatch("a session is in a phase the model does not know");
    if (db_open != open) mismatch(db_open, " executions are open, the model has ", open);
    // Exactly once: one completed execution per COMPLETED step, and no step with two.
    if (db_completed != completed || db_completed_steps != completed)
      mismatch(db_completed, " completed executions of ", db_completed_steps, " steps; ", completed,
               " steps are COMPLETED");
  }

  void check_all() {
    compare_counts(db_.rows(kTotals));
    const auto steps = db_.rows("SELECT session, num, phase, attempt FROM step ORDER BY session, num");
    const auto execs = db_.rows(
        "SELECT s.num, e.fence, CASE WHEN e.ended_at IS NULL THEN 1 ELSE 0 END, coalesce(e.outcome, ''), s.session "
        "FROM execution e JOIN step s ON s.id = e.step ORDER BY s.session, s.num, e.fence");
    std::size_t r = 0, x = 0;
    for (auto& ss : sessions_) {
      for (std::size_t n = 0; n < ss.steps.size(); ++n, ++r) {
        if (r >= steps.size() || std::stoull(steps[r][0]) != ss.id || std::stoul(steps[r][1]) != n)
          mismatch("the step table lacks session ", ss.id, " step ", n);
        compare_step(ss, n, ss.steps[n], steps[r][2], steps[r][3]);
      }
      std::size_t end = x;
      while (end < execs.size() && std::stoull(execs[end][4]) == ss.id) ++end;
      compare_execs(ss, execs, x, end);
      x = end;
    }
    if (r != steps.size() || x != execs.size()) mismatch("the database has steps or executions the model lacks");
    cov.sessions = static_cast<int>(sessions_.size());
    cov.completed = static_cast<int>(
        std::count_if(sessions_.begin(), sessions_.end(), [](const MSession& ss) { return ss.phase == "COMPLETED"; }));
  }

  static inline int counter_ = 0;
  const Target& t_;
  const Scenario& sc_;
  Database db_;
  bool patient_ = false;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::vector<std::vector<Held>> held_;
  std::vector<bool> paused_;
  int spawned_ = 0;
  std::vector<MSession> sessions_;
  std::map<std::uint64_t, std::size_t> by_id_;
  std::set<std::size_t> active_, touched_;
  std::vector<Dead> dead_;          // killed, not yet reaped
  std::set<std::int64_t> stopped_;  // declared dead or stopped gracefully
};

}  // namespace

std::string Op::str() const {
  static const char* names[] = {"submit", "claim", "finish", "cancel",         "promote", "heartbeat",
                                "reap",   "stop",  "kill",   "kill_in_flight", "restart", "pause"};
  std::ostringstream o;
  o << names[static_cast<int>(type)] << " agent " << agent << " pick " << pick;
  if (type == Type::finish) o << " " << kOutcomes[outcome];
  if (type == Type::kill_in_flight) o << (outcome == 1 ? " (a finish)" : " (a claim)");
  return o.str();
}

std::vector<Op> generate(std::uint64_t seed, int n, bool restarts) {
  std::mt19937_64 rng(seed);
  // Weights by Op::Type: mostly claims and finishes, enough submits to keep work coming, and
  // kills often enough that reaps find orphans (a restart costs a second or two).
  std::discrete_distribution<int> type({100, 300, 300, 25, 70, 40, 40, 10, 10, 20, restarts ? 0.5 : 0.0, 4});
  // Finishes mostly complete, so that sessions do; a failure ends its whole session.
  std::discrete_distribution<int> outcome({60, 6, 14, 20});
  std::uniform_int_distribution<int> agent(0, 2), coin(0, 1);
  std::uniform_int_distribution<std::uint32_t> pick;
  std::vector<Op> ops(static_cast<std::size_t>(n));
  for (auto& op : ops) {
    op.type = static_cast<Op::Type>(type(rng));
    op.agent = agent(rng);
    op.pick = pick(rng);
    op.outcome = op.type == Op::Type::kill_in_flight ? coin(rng) : outcome(rng);
  }
  return ops;
}

std::optional<Failure> run(const Target& t, const std::vector<Op>& ops, Coverage* coverage, bool patient_reaps) {
  signal(SIGPIPE, SIG_IGN);
  const Scenario sc = parse_scenario(kScenario, "model.json");
  Run r(t, sc, patient_reaps);
  auto f = r.go(ops);
  if (coverage) *coverage = r.cov;
  return f;
}

std::string Coverage::str() const {
  std::ostringstream o;
  o << sessions << " sessions (" << completed << " completed, " << cancelled << " cancelled by the operator); "
    << claimed << " claims, " << empty_claims << " empty; finishes " << finished[0] << " completed, " << finished[1]
    << " failed, " << finished[2] << " retry, " << finished[3] << " requeue, " << lost_finishes << " refused; "
    << promoted << " promoted; " << kills << " kills, " << in_doubt_committed << " in-flight writes committed and "
    << in_doubt_not << " not; " << zombies << " zombies; " << reaped << " steps reaped, " << released << " released; "
    << restarts << " server restarts";
  return o.str();
}

std::vector<Op> shrink(const Target& t, std::vector<Op> ops, int budget_runs) {
  // A run that fails is cut after its failing operation: what follows cannot matter.
  std::vector<bool> effective;
  auto fails = [&](std::vector<Op>& o) {
    --budget_runs;
    const auto f = run(t, o, nullptr, true);
    if (!f) return false;
    o.resize(f->op + 1);
    effective = f->effective;
    return true;
  };
  // What changed nothing goes in one replay, when the rest still fails.
  auto drop_idle = [&] {
    std::vector<Op> busy;
    for (std::size_t k = 0; k < ops.size(); ++k)
      if (effective.at(k)) busy.push_back(ops[k]);
    if (busy.size() < ops.size() && budget_runs > 0 && fails(busy)) ops = std::move(busy);
  };
  if (!fails(ops)) return ops;
  drop_idle();
  std::size_t parts = 2;
  while (ops.size() >= 2 && budget_runs > 0) {
    const std::size_t chunk = (ops.size() + parts - 1) / parts;
    bool smaller = false;
    for (std::size_t start = 0; start < ops.size() && budget_runs > 0; start += chunk) {
      std::vector<Op> rest(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(start));
      rest.insert(rest.end(), ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), start + chunk)),
                  ops.end());
      if (fails(rest)) {
        ops = std::move(rest);
        drop_idle();
        parts = std::max<std::size_t>(parts - 1, 2);
        smaller = true;
        break;
      }
    }
    if (!smaller) {
      if (parts >= ops.size()) break;
      parts = std::min(ops.size(), parts * 2);
    }
  }
  return ops;
}

std::string describe(const std::vector<Op>& ops) {
  std::ostringstream o;
  for (std::size_t i = 0; i < ops.size(); ++i) o << "  " << i << ": " << ops[i].str() << "\n";
  return o.str();
}

}  // namespace stepq::test::model
