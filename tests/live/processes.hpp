// Real processes for the live tests: run the stepq binary, in the foreground or the background,
// in a fresh temporary directory, and read the SQLite file it wrote.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace stepq::test {

// A directory under /tmp, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/stepq-live-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

struct Result {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// A process started with fork/exec; stdout and stderr go to files in `dir`.
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const std::filesystem::path& dir, const std::string& tag) {
    out_ = (dir / (tag + ".out")).string();
    err_ = (dir / (tag + ".err")).string();
    std::fflush(nullptr);  // or the child would write the parent's buffered output again
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      if (!freopen(out_.c_str(), "w", stdout) || !freopen(err_.c_str(), "w", stderr)) _exit(126);
      if (chdir(dir.c_str()) != 0) _exit(126);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  Proc(const Proc&) = delete;
  ~Proc() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }
  // Waits at most `timeout_s`; then kills it and throws.
  Result wait(double timeout_s = 600) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    int st = 0;
    for (;;) {
      const pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
        waited_ = true;
        throw std::runtime_error("process " + std::to_string(pid_) + " did not end within " +
                                 std::to_string(timeout_s) + " s; stderr: " + slurp(err_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    waited_ = true;
    Result res;
    res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    res.out = slurp(out_);
    res.err = slurp(err_);
    return res;
  }
  static std::string slurp(const std::string& f) {
    std::ifstream in(f);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  std::string out_, err_;
};

inline std::vector<std::string> stepq(std::vector<std::string> args) {
  args.insert(args.begin(), STEPQ_BINARY);
  return args;
}

// Runs stepq in `dir` to completion.
inline Result run_stepq(const std::vector<std::string>& args, const std::filesystem::path& dir,
                        double timeout_s = 600) {
  static int n = 0;
  Proc p(stepq(args), dir, "cmd" + std::to_string(n++));
  return p.wait(timeout_s);
}

inline std::string source(const std::string& rel) { return std::string(STEPQ_SOURCE_DIR) + "/" + rel; }

// A whole emulated live run in `dir`: `live init`, a worker (`live run SCENARIO --time-scale
// SCALE --until-idle`) while `live submit` adds `sessions` at `rate` per wall second; `extra`
// (e.g. --set overrides) goes to both. Returns the worker's result.
inline Result live_run_until_idle(const std::filesystem::path& dir, const std::string& scenario,
                                  const std::string& scale, int sessions, const std::string& rate,
                                  const std::vector<std::string>& extra = {}) {
  if (run_stepq({"live", "init"}, dir).status != 0) return {1, "", "live init failed"};
  std::vector<std::string> run = {"live", "run", scenario, "--time-scale", scale, "--until-idle"};
  std::vector<std::string> submit = {"live",   "submit", scenario, "--sessions", std::to_string(sessions),
                                     "--rate", rate};
  run.insert(run.end(), extra.begin(), extra.end());
  submit.insert(submit.end(), extra.begin(), extra.end());
  Proc worker(stepq(run), dir, "run");
  const Result sub = run_stepq(submit, dir);
  Result r = worker.wait(120);
  if (sub.status != 0) r.status = sub.status, r.err += "\nlive submit: " + sub.err;
  return r;
}

}  // namespace stepq::test
