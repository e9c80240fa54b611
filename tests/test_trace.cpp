#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}
}  // namespace

TEST_CASE("trace: --trace writes one row per session whose start-up reproduces the JSON p95", "[trace]") {
  const fs::path dir = fs::temp_directory_path() / "stepq-trace-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd = std::string(STEPQ_BINARY) + " simulate " + STEPQ_SOURCE_DIR +
                          "/scenarios/skaha-basic.json --sessions 3000 --warmup none -q --trace " +
                          (dir / "t").string() + " --json " + (dir / "r.json").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto result = nlohmann::json::parse(std::ifstream(dir / "r.json"));
  const auto sessions = read_csv(dir / "t" / "sessions.csv");
  REQUIRE(sessions.size() == 3001);  // header + one row per session
  CHECK(sessions[0][4] == "startup_s");
  std::vector<double> startup;
  int failed = 0;
  for (std::size_t i = 1; i < sessions.size(); ++i) {
    if (sessions[i][5] == "started") startup.push_back(std::stod(sessions[i][4]));
    else ++failed;
  }
  CHECK(failed == result["sessions"]["failed"].get<int>());
  std::sort(startup.begin(), startup.end());
  const double p95 = startup[static_cast<std::size_t>(std::ceil(0.95 * startup.size())) - 1];
  CHECK(result["startup_s"]["p95"].get<double>() == Approx(p95).epsilon(0.001));  // histogram resolution

  const auto steps = read_csv(dir / "t" / "steps.csv");
  std::size_t claims = 0;
  for (const auto& [name, k] : result["kinds"].items()) claims += k["claims"].get<std::size_t>();
  CHECK(steps.size() == claims + 1);
  fs::remove_all(dir);
}

TEST_CASE("trace: --trace refuses replications and unwritable places with exit status 2", "[trace]") {
  const std::string base =
      std::string(STEPQ_BINARY) + " simulate " + STEPQ_SOURCE_DIR + "/scenarios/mm4.json --sessions 10 -q";
  CHECK(WEXITSTATUS(std::system((base + " -r 2 --trace /tmp/x 2>/dev/null").c_str())) == 2);
  CHECK(WEXITSTATUS(std::system((base + " --trace /proc/no/such 2>/dev/null").c_str())) == 2);
}
