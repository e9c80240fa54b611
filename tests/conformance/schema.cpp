// Store conformance: the schema — migrations, a newer schema, binding a scenario (live stores
// only; harness.hpp).
#include "conformance/harness.hpp"

TEST_CASE("store conformance (" STORE_NAME "): migrating twice changes nothing, and the schema is then current") {
  LiveStoreHarness h(conformance_scenario());
  const int v = h.store->schema_version();
  REQUIRE(v > 0);
  h.submit();
  REQUIRE(h.store->migrate() == 0);  // migrations applied
  REQUIRE(h.store->schema_version() == v);
  REQUIRE_NOTHROW(h.store->require_schema());
  require_step(h.q().claim(h.pool("front")), 0, X);  // the queue survived the second migration
}

TEST_CASE("store conformance (" STORE_NAME "): bind refuses a scenario whose template differs from the queue's") {
  LiveStoreHarness h(conformance_scenario());
  h.submit();  // an unfinished session of template t, three steps
  Scenario other = h.sc;
  other.templates[0].steps.pop_back();  // t with two steps
  other.templates[0].startup_steps = 2;
  auto b = h.open();
  REQUIRE_THROWS_AS(b->bind(other, kScale), live::StoreError);
  REQUIRE_NOTHROW(b->bind(h.sc, kScale));  // the scenario it ran is fine
}

TEST_CASE("store conformance (" STORE_NAME "): a schema newer than this stepq is refused, and not migrated") {
  LiveStoreHarness h(conformance_scenario());
  h.submit();
  const int v = h.store->schema_version();
  h.set_schema_version(v + 1);
  auto other = h.open();
  REQUIRE(other->schema_version() == v + 1);
  for (const auto& call :
       std::vector<std::function<void()>>{[&] { other->require_schema(); }, [&] { other->migrate(); }}) {
    try {
      call();
      FAIL("a newer schema was accepted");
    } catch (const live::StoreError& e) {
      CHECK_THAT(e.what(), Catch::Contains("schema version " + std::to_string(v + 1)) &&
                               Catch::Contains("newer than this stepq understands"));
    }
  }
  REQUIRE(other->schema_version() == v + 1);  // nothing was applied on top of it
}
