// Launching a program detached from the worker, and reading its fate from files.
//
// launch: worker → fork A (setsid) → fork B, the monitor; A exits at once, so B belongs to init
// and outlives the worker. B forks the program C (cwd, env, stdout/stderr to files), waits for it,
// and writes "<id>.exit" atomically (temporary name, then rename). Any worker process can poll.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/scenario.hpp"
#include "local_services.hpp"

extern char** environ;

namespace stepq::local {

namespace {

// Async-signal-safe: what a child may do between fork and exec in a threaded parent.
void write_all(int fd, const char* s, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}
std::size_t format_status(char* out, const char* word, int v) {  // "exit 3\n"
  std::size_t n = 0;
  for (const char* p = word; *p; ++p) out[n++] = *p;
  out[n++] = ' ';
  char digits[16];
  int d = 0;
  unsigned u = static_cast<unsigned>(v);
  do digits[d++] = static_cast<char>('0' + u % 10); while ((u /= 10) > 0);
  while (d > 0) out[n++] = digits[--d];
  out[n++] = '\n';
  return n;
}

std::string tail(const std::filesystem::path& f, std::size_t max = 600) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  if (t.size() > max) t = "…" + t.substr(t.size() - max);
  return t;
}

}  // namespace

OpResult start_detached(const std::filesystem::path& dir, const std::string& id, const std::string& program,
                        const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env) {
  const std::filesystem::path state = dir / ".stepq";
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (ec) return {false, false, "cannot create " + state.string() + ": " + ec.message()};
  // Idempotent: a launch that already happened (a re-run after a crash) is not repeated.
  const std::string marker = (state / (id + ".launched")).string();
  const int m = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (m < 0) {
    if (errno == EEXIST) return {};
    return {false, false, "cannot create " + marker + ": " + std::strerror(errno)};
  }
  ::close(m);

  std::string resolved;
  if (!resolve_program(program, resolved)) {
    std::filesystem::remove(marker, ec);
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
  const std::string cwd = dir.string();

  const pid_t a = ::fork();
  if (a < 0) return {false, false, std::string("fork: ") + std::strerror(errno)};
  if (a == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // A ends; B, the monitor, is adopted by init
    const pid_t c = ::fork();
    if (c == 0) {
      const int o = ::open(out.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      const int e = ::open(err.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      const int in = ::open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || in < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execve(argv[0], argv.data(), envp.data());
      const char* why = "stepq: cannot execute the program\n";
      write_all(2, why, std::strlen(why));
      ::_exit(127);
    }
    int st = 0;
    while (c > 0 && ::waitpid(c, &st, 0) < 0 && errno == EINTR) {
    }
    char line[32];
    const std::size_t n = c < 0                ? format_status(line, "exit", 126)
                          : WIFEXITED(st)      ? format_status(line, "exit", WEXITSTATUS(st))
                                               : format_status(line, "signal", WTERMSIG(st));
    const int fd = ::open(exit_tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd >= 0) {
      write_all(fd, line, n);
      ::fsync(fd);
      ::close(fd);
      ::rename(exit_tmp.c_str(), exit_file.c_str());
    }
    ::_exit(0);
  }
  int st = 0;
  while (::waitpid(a, &st, 0) < 0 && errno == EINTR) {
  }
  return {};
}

OpResult check_finished(const std::filesystem::path& dir, const std::string& id) {
  const std::filesystem::path state = dir / ".stepq";
  std::error_code ec;
  if (!std::filesystem::exists(state / (id + ".launched"), ec))
    return {false, false, "nothing was launched for step '" + id + "' in " + dir.string()};
  std::ifstream f(state / (id + ".exit"));
  std::string word;
  int value = 0;
  if (!(f >> word >> value)) return {true, false, {}};  // still running
  if (word == "exit" && value == 0) return {};
  return {false, false,
          "program of step '" + id + "' " + (word == "exit" ? "exited with status " : "was killed by signal ") +
              std::to_string(value) + "; stderr: " + tail(state / (id + ".stderr"))};
}

}  // namespace stepq::local
