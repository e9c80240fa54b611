#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "sim/spill_log.hpp"

using stepq::sim::SpillLog;
namespace fs = std::filesystem;

namespace {
struct Rec {
  std::uint32_t a;
  float b;
};

// Sets TMPDIR for the scope of a test.
struct TmpDir {
  std::string old;
  bool had;
  explicit TmpDir(const std::string& dir) : had(std::getenv("TMPDIR") != nullptr) {
    if (had) old = std::getenv("TMPDIR");
    setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpDir() {
    if (had) setenv("TMPDIR", old.c_str(), 1);
    else unsetenv("TMPDIR");
  }
};
}  // namespace

TEST_CASE("spill log: records come back in order across chunks, twice, and more can follow", "[spill]") {
  const fs::path dir = fs::temp_directory_path() / ("stepq-spill-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  {
    TmpDir env(dir.string());
    SpillLog<Rec> log;
    const std::uint32_t n = 20000;  // two whole chunks and part of a third
    for (std::uint32_t i = 0; i < n; ++i) log.push({i, static_cast<float>(i) / 4});
    CHECK(log.size() == n);
    // Unlinked at once: nothing to see in the directory, nothing left if the process dies.
    CHECK(fs::is_empty(dir));
    for (int pass = 0; pass < 2; ++pass) {
      std::uint32_t next = 0;
      bool in_order = true;
      log.for_each([&](const Rec& r) { in_order = in_order && r.a == next && r.b == static_cast<float>(next++) / 4; });
      CHECK(in_order);
      CHECK(next == n);
    }
    log.push({n, 0});
    std::uint32_t count = 0, last = 0;
    log.for_each([&](const Rec& r) { ++count, last = r.a; });
    CHECK(count == n + 1);
    CHECK(last == n);
  }
  fs::remove_all(dir);
}

TEST_CASE("spill log: a short log stays in memory, and one that cannot get its file says where and what to do",
          "[spill]") {
  TmpDir env("/nonexistent-stepq-dir");
  SpillLog<Rec> small;
  for (std::uint32_t i = 0; i < 100; ++i) small.push({i, 0});
  std::uint32_t seen = 0;
  small.for_each([&](const Rec&) { ++seen; });
  CHECK(seen == 100);

  SpillLog<Rec> big;
  std::string error;
  try {
    for (std::uint32_t i = 0; i < 100000; ++i) big.push({i, 0});
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK_THAT(error, Catch::Contains("/nonexistent-stepq-dir") && Catch::Contains("TMPDIR") &&
                        Catch::Contains("--warmup none"));
}
