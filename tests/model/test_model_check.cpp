// The model check (model_check.hpp) on SQLite: a real file that three agent processes share.
#include <catch2/catch.hpp>

#include <memory>

#include "backends/live/open_store.hpp"
#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "model/model_target.hpp"

using namespace stepq;
using namespace stepq::test;

namespace {

model::Target sqlite_target(const TempDir& dir) {
  model::Target t;
  t.fresh = [&dir, n = 0]() mutable {
    const std::string path = dir / ("model" + std::to_string(n++) + ".db");
    live::open_store("sqlite:" + path, true)->migrate();
    auto db = std::make_shared<SqlDb>(path);
    model::Database d;
    d.url = "sqlite:" + path;
    d.rows = [db](const std::string& sql) { return db->rows(sql); };
    return d;  // a killed process's transaction dies with it: nothing to settle
  };
  return t;
}

}  // namespace

TEST_CASE(
    "model check on SQLite: 10^4 random operations by three processes, kills and zombies among them, match the model") {
  TempDir dir;
  model::check_seed(sqlite_target(dir), model::seed_from_env(1), "SQLite");
}

TEST_CASE("model check: a planted error in the model is found and shrunk to the three operations that show it") {
  TempDir dir;
  model::check_shrinking(sqlite_target(dir));
}
