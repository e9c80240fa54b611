// The model check (tests/model/model_check.hpp) on PostgreSQL: a server of the test's own, which
// the sequence restarts now and then while three agent processes use it.
#include <catch2/catch.hpp>

#include <memory>

#include "backends/live/open_store.hpp"
#include "model/model_target.hpp"
#include "live/db_check.hpp"
#include "pg/own_server.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq;
using namespace stepq::test;

TEST_CASE(
    "model check on PostgreSQL: 10^4 random operations by three processes, kills, zombies and server "
    "restarts among them, match the model") {
  OwnServer server;
  model::Target t;
  // The reader reconnects after a restart, as the agents do.
  t.fresh = [&server, n = 0]() mutable {
    const std::string url = pg_url_with_db(server.url, "model" + std::to_string(n++));
    live::open_store(url, true)->migrate();
    auto db = std::make_shared<std::unique_ptr<PgDb>>(std::make_unique<PgDb>(url));
    model::Database d;
    d.url = url;
    d.rows = [db, url](const std::string& sql) {
      try {
        return (*db)->rows(sql);
      } catch (const std::runtime_error&) {
        *db = std::make_unique<PgDb>(url);
        return (*db)->rows(sql);
      }
    };
    d.named = [url](const std::string& name) {
      return url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + name;
    };
    d.settle = [rows = d.rows](const std::string& name) {
      REQUIRE(within(30, [&] {
        return rows("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'")[0][0] == "0";
      }));
    };
    return d;
  };
  t.restart = [&server] { server.restart(); };
  model::check_seed(t, model::seed_from_env(1), "PostgreSQL");
}
