// A PostgreSQL server of a test's own, for tests that restart it or make it listen on other
// addresses (the `pg` fixture's server is shared by the tests running beside them).
#pragma once
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "live/processes.hpp"

namespace stepq::test {

struct OwnServer {
  TempDir dir;
  std::string url;
  explicit OwnServer(const std::string& listen = "127.0.0.1") {
    std::filesystem::permissions(dir.path, std::filesystem::perms::others_exec | std::filesystem::perms::group_exec,
                                 std::filesystem::perm_options::add);  // the server runs as `postgres`
    const Result r = run(dir, {source("scripts/pg_server.sh"), "start", dir / "pg", listen}, 60);
    INFO(r.err);
    REQUIRE(r.status == 0);
    url = r.out.substr(0, r.out.find('\n'));
  }
  ~OwnServer() { run(dir, {source("scripts/pg_server.sh"), "stop", dir / "pg"}, 60); }
  void restart() {
    const Result r = run(dir, {source("scripts/pg_server.sh"), "restart", dir / "pg"}, 60);
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  std::string port() const { return Proc::slurp(dir / "pg/port").substr(0, 5); }
  static Result run(const TempDir& d, const std::vector<std::string>& args, double timeout) {
    Proc p(args, d.path, "pg_server");
    return p.wait(timeout);
  }
};

}  // namespace stepq::test
