// Launching a program detached from the worker, and reading its fate from files.
//
// launch: worker → fork A (setsid) → fork B, the monitor; A exits at once, so B is adopted by
// init and outlives the worker (also its SIGKILL, and a kill of its process group). B closes
// every descriptor it inherited (the worker's database, sockets and pipes), records its pid,
// forks the program C (cwd, env, stdout/stderr to files), waits for it, and writes
// "<id>.exit" atomically (temporary name, then rename). Any worker process can then poll.
//
// Files, under <session>/.stepq/:
//   <id>.launched   made before anything starts, and locked while a launch is under way: the
//                   program starts exactly once (start_detached says how)
//   <id>.monitor    "PID HOST": the monitor, so a poll can tell a running program from a lost one
//   <id>.stdout, <id>.stderr   the program's output (whole; reasons quote the last 2 KB)
//   <id>.exit       "exit N" or "signal N", once the program has ended
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/scenario.hpp"
#include "local_services.hpp"

extern char** environ;

namespace stepq::local {

namespace {

// A completed launch with no monitor record after this long was cut short (its monitor died before
// recording itself, so before it started the program): the program never started.
constexpr double kMonitorGrace_s = 30;

// --- async-signal-safe helpers: all a child may do between fork and exec in a threaded parent ---
void write_all(int fd, const char* s, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}
void write_str(int fd, const char* s) { write_all(fd, s, std::strlen(s)); }
std::size_t put_uint(char* out, unsigned long v) {
  char digits[24];
  int d = 0;
  do digits[d++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) > 0);
  std::size_t n = 0;
  while (d > 0) out[n++] = digits[--d];
  return n;
}
// Writes `n` bytes to `tmp`, then renames it to `file`: readers see all of it or nothing.
void write_atomically(const char* tmp, const char* file, const char* s, std::size_t n) {
  const int fd = ::open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, s, n);
  ::fsync(fd);
  ::close(fd);
  ::rename(tmp, file);
}
// Closes every descriptor from 3 up but `keep`.
void close_inherited(int max_fd, int keep) {
#ifdef SYS_close_range
  if ((keep == 3 || ::syscall(SYS_close_range, 3U, static_cast<unsigned>(keep - 1), 0U) == 0) &&
      ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0U, 0U) == 0)
    return;
#endif
  for (int fd = 3; fd < max_fd; ++fd)
    if (fd != keep) ::close(fd);
}

// The last `max` bytes of a file, without reading the rest; trailing newlines dropped.
std::string tail(const std::filesystem::path& f, std::size_t max = 2048) {
  std::ifstream in(f, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > static_cast<std::streamoff>(max) ? size - static_cast<std::streamoff>(max) : 0;
  in.seekg(from);
  std::string t(static_cast<std::size_t>(size - from), '\0');
  in.read(t.data(), static_cast<std::streamsize>(t.size()));
  t.resize(static_cast<std::size_t>(in.gcount()));
  if (from > 0) {  // cut at a character boundary, and say that something came before
    std::size_t i = 0;
    while (i < t.size() && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) ++i;
    t = "…" + t.substr(i);
  }
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

std::string signal_name(long sig) {
  const char* abbrev = sig > 0 && sig < NSIG ? ::sigabbrev_np(static_cast<int>(sig)) : nullptr;
  return abbrev ? std::string(" (SIG") + abbrev + ")" : std::string();
}

std::string hostname() {
  char h[256] = "";
  ::gethostname(h, sizeof h - 1);
  return h;
}

}  // namespace

OpResult start_detached(const std::filesystem::path& dir, const std::string& id, const std::string& program,
                        const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env) {
  const std::filesystem::path state = dir / ".stepq";
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (ec) return {false, false, "cannot create " + state.string() + ": " + ec.message()};

  // Exactly once, across crashes and paused processes. The marker is locked (flock) by whoever is
  // launching, from before anything starts until the monitor has recorded itself: the worker holds
  // it until its first child has forked the monitor, and the monitor until its record is written.
  // So a marker found locked is a launch under way (perhaps in a process paused mid-launch: look
  // again later, it will go on when resumed); found unlocked with a monitor record, a launch done;
  // found unlocked without one, a launch cut short before anything started (its launcher died):
  // this call launches. A new marker is made and locked under a temporary name and then linked
  // into place, so no one can find it unlocked before its launch began.
  const std::string marker = (state / (id + ".launched")).string();
  const std::string mon_file = (state / (id + ".monitor")).string();
  static std::atomic<unsigned> made{0};
  const std::string fresh = marker + "." + std::to_string(::getpid()) + "." + std::to_string(made++) + ".tmp";
  int m = ::open(fresh.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (m < 0) return {false, false, "cannot create " + fresh + ": " + std::strerror(errno)};
  ::flock(m, LOCK_EX);
  const int linked = ::link(fresh.c_str(), marker.c_str()) == 0 ? 0 : errno;
  ::unlink(fresh.c_str());
  if (linked != 0) {
    ::close(m);
    if (linked != EEXIST) return {false, false, "cannot create " + marker + ": " + std::strerror(linked)};
    m = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
    if (m < 0) return {false, false, "cannot open " + marker + ": " + std::strerror(errno)};
    if (::flock(m, LOCK_EX | LOCK_NB) != 0) {
      ::close(m);
      return {true, false, {}, 1.0};  // under way elsewhere
    }
    if (std::filesystem::exists(mon_file, ec)) {
      ::close(m);
      return {};  // done before (a re-run after a crash): not repeated
    }
  }
  // Closing `m` (here, and in every child that holds it) ends the claim on the launch.
  std::string resolved;
  if (!resolve_program(program, resolved)) {
    std::filesystem::remove(marker, ec);
    ::close(m);
    return {false, false, resolved};
  }

  // Everything the children need, prepared before fork (no allocation after it).
  std::vector<std::string> argv_s{resolved};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    bool overridden = false;
    for (const auto& [k, v] : env) overridden |= kv.rfind(k + "=", 0) == 0;
    if (!overridden) env_s.push_back(kv);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out = (state / (id + ".stdout")).string(), err = (state / (id + ".stderr")).string();
  const std::string exit_tmp = (state / (id + ".exit.tmp")).string(), exit_file = (state / (id + ".exit")).string();
  const std::string mon_tmp = (state / (id + ".monitor.tmp")).string();
  const std::string host = hostname();
  const std::string cwd = dir.string();
  const std::string cannot_exec = "stepq: cannot execute " + resolved + ": errno ";
  const std::string cannot_cd = "stepq: cannot enter " + cwd + " or open the output files\n";
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
  char mon_line[320];

  const pid_t a = ::fork();
  if (a < 0) {
    const int e = errno;
    std::filesystem::remove(marker, ec);
    ::close(m);
    return {false, false, "cannot start " + resolved + " for step '" + id + "': fork: " + std::strerror(e)};
  }
  if (a == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // A ends; B, the monitor, is adopted by init
    // B: hold nothing of the worker's (its database, its sockets, the pipe a caller reads to
    // EOF), and give the program default signal handling and an empty signal mask.
    close_inherited(max_fd, m);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (null > 2) ::close(null);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    std::size_t n = put_uint(mon_line, static_cast<unsigned long>(::getpid()));
    mon_line[n++] = ' ';
    for (std::size_t i = 0; i < host.size() && n < sizeof mon_line - 2; ++i) mon_line[n++] = host[i];
    mon_line[n++] = '\n';
    write_atomically(mon_tmp.c_str(), mon_file.c_str(), mon_line, n);
    ::close(m);  // recorded: the launch is done

    const pid_t c = ::fork();
    if (c == 0) {
      const int o = ::open(out.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      const int e = ::open(err.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      if (e >= 0) ::dup2(e, 2);
      if (o < 0 || e < 0 || ::chdir(cwd.c_str()) != 0) {
        write_str(2, cannot_cd.c_str());
        ::_exit(126);
      }
      ::dup2(o, 1);
      ::close(o);
      ::close(e);
      ::execve(argv[0], argv.data(), envp.data());
      char num[24];
      const int why = errno;
      write_str(2, cannot_exec.c_str());
      write_all(2, num, put_uint(num, static_cast<unsigned long>(why)));
      write_str(2, "\n");
      ::_exit(127);
    }
    int st = 0;
    while (c > 0 && ::waitpid(c, &st, 0) < 0 && errno == EINTR) {
    }
    char line[32];
    const char* word = c > 0 && WIFSIGNALED(st) ? "signal " : "exit ";
    const unsigned long value = c < 0 ? 126 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
    std::size_t len = std::strlen(word);
    std::memcpy(line, word, len);
    len += put_uint(line + len, value);
    line[len++] = '\n';
    write_atomically(exit_tmp.c_str(), exit_file.c_str(), line, len);
    ::_exit(0);
  }
  int st = 0;
  while (::waitpid(a, &st, 0) < 0 && errno == EINTR) {
  }
  ::close(m);  // the monitor holds the lock now, until it has recorded itself
  return {};
}

OpResult check_finished(const std::filesystem::path& dir, const std::string& id, const std::string& program) {
  const std::filesystem::path state = dir / ".stepq";
  const std::string what = "program " + program + " of step '" + id + "'";
  std::error_code ec;
  const auto read_exit = [&](std::string& word, long& value) {
    std::ifstream f(state / (id + ".exit"));
    return static_cast<bool>(f >> word >> value);
  };
  std::string word;
  long value = 0;
  if (!read_exit(word, value)) {
    const auto marker = state / (id + ".launched");
    const auto launched_at = std::filesystem::last_write_time(marker, ec);
    if (ec) return {false, false, "nothing was launched for step '" + id + "' in " + dir.string()};
    std::ifstream mon(state / (id + ".monitor"));
    long pid = 0;
    std::string host;
    if (!(mon >> pid >> host)) {
      const auto age = std::filesystem::file_time_type::clock::now() - launched_at;
      if (age > std::chrono::duration<double>(kMonitorGrace_s))
        return {false, false,
                "the launch of " + what + " was cut short before the program started (no monitor " +
                    std::to_string(static_cast<int>(kMonitorGrace_s)) + " s after " + marker.string() + ")"};
      return {true, false, {}};  // starting
    }
    // The monitor records the exit before it ends: gone without one means it was killed.
    if (host == hostname() && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH &&
        !read_exit(word, value))
      return {false, false,
              "the monitor of " + what + " (pid " + std::to_string(pid) +
                  ") is gone without recording an exit status in " + state.string()};
    if (word.empty()) return {true, false, {}};  // still running
  }
  if (word == "exit" && value == 0) return {};
  std::string reason = what + ": " +
                       (word == "signal" ? "killed by signal " + std::to_string(value) + signal_name(value)
                                         : "exit status " + std::to_string(value));
  const std::string err = tail(state / (id + ".stderr"));
  if (!err.empty()) return {false, false, reason + "; stderr: " + err};
  return {false, false, reason + "; stderr empty; stdout: " + tail(state / (id + ".stdout"))};
}

OpResult stop_launched(const std::filesystem::path& dir, const std::string& id) {
  const std::filesystem::path state = dir / ".stepq";
  std::error_code ec;
  if (!std::filesystem::exists(state / (id + ".launched"), ec) || std::filesystem::exists(state / (id + ".exit"), ec))
    return {};  // never launched, or already ended
  std::ifstream mon(state / (id + ".monitor"));
  long pid = 0;
  std::string host;
  if (!(mon >> pid >> host)) return {};  // the launch was cut short before the program started
  if (host != hostname())
    return {false, false, "step '" + id + "' was launched on " + host + ": only that host can stop it"};
  // The monitor and the program share the process group the launch made (setsid): end both.
  const pid_t group = ::getpgid(static_cast<pid_t>(pid));
  if (group > 0 && ::kill(-group, SIGTERM) != 0 && errno != ESRCH)
    return {false, false,
            "cannot stop step '" + id + "' (process group " + std::to_string(group) + "): " + std::strerror(errno)};
  return {};
}

}  // namespace stepq::local
