#include "isolated.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reports/result_json.hpp"

namespace stepq::sim {

namespace {
void write_all(int fd, const std::string& s) {
  for (std::size_t off = 0; off < s.size();) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}
}  // namespace

nlohmann::ordered_json run_in_child(const std::function<nlohmann::ordered_json()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  // Buffered output would otherwise be written twice: once by the child, once by the parent.
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    int rc = 0;
    std::string out;
    try {
      out = "ok " + body().dump();
    } catch (const std::exception& e) {
      out = std::string("error ") + e.what();
      rc = 1;
    }
    write_all(fds[1], out);
    ::close(fds[1]);
    ::_exit(rc);  // no atexit handlers or static destructors of the parent's state
  }
  ::close(fds[1]);
  std::string buf;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (buf.rfind("ok ", 0) == 0) return nlohmann::ordered_json::parse(buf.substr(3));
  if (buf.rfind("error ", 0) == 0) throw std::runtime_error(buf.substr(6));
  if (WIFSIGNALED(status))
    throw std::runtime_error("simulation process died with signal " + std::to_string(WTERMSIG(status)));
  throw std::runtime_error("simulation process ended without a result (status " + std::to_string(status) + ")");
}

int child_jobs(int requested) {
#ifdef STEPQ_SANITIZED
  (void)requested;
  return 1;
#else
  return requested > 0 ? requested : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#endif
}

void run_children(int jobs, const std::function<void()>& each) {
  if (jobs <= 1) return each();
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back(each);
  for (auto& t : pool) t.join();
}

nlohmann::ordered_json run_isolated(const Scenario& sc, const SimOptions& opt) {
  return run_in_child([&] { return result_json(sc, run_simulation(sc, opt)); });
}

}  // namespace stepq::sim
