#include <catch2/catch.hpp>

#include "controller/config.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;

TEST_CASE("the example controller configuration loads with every field", "[config]") {
  auto c =
      controller::load_controller_config(test::source_dir() + "/examples/config/controller.yaml");
  INFO((c.ok() ? "" : c.error().to_string()));
  REQUIRE(c.ok());
  CHECK(c->listen.to_string() == "127.0.0.1:6820");
  CHECK(c->heartbeat_timeout_ms == 30000);
  CHECK(c->scheduler_profile == "switchyard");
  CHECK(c->default_time_limit_ms == 3600 * 1000);
  CHECK(c->fair_share_half_life_ms == 7LL * 24 * 3600 * 1000);
  CHECK(c->scorer_weights.at("nic-numa") == 1);
}

TEST_CASE("bad controller configurations are refused with their place", "[config]") {
  test::TempDir dir;
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"listen: nowhere:port\n",
       ":1:1: listen: 'nowhere:port' is not an address (want HOST:PORT): bad port"},
      {"scheduler: {profile: fastest}\n",
       ":1:13: scheduler.profile: must be one of: switchyard, slurm-like, fifo-firstfit"},
      {"nodes: {heartbeat_interval_ms: 5000, heartbeat_timeout_ms: 1000}\n",
       ":1:38: nodes.heartbeat_timeout_ms: must be longer than heartbeat_interval_ms"},
      {"scheduler: {default_time_limit: soon}\n",
       ":1:13: scheduler.default_time_limit: must be a duration like 30m, 2h, 1h30m, 2:00:00 or "
       "1-12:00:00 (a bare number is minutes)"},
      {"http: {max_body: 10}\n", ":1:8: http.max_body: unknown field"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    const std::string path = dir.write("c.yaml", c.yaml);
    auto loaded = controller::load_controller_config(path);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().to_string() == path + c.error);
  }
}

TEST_CASE("a reload names every changed setting that waits for a restart", "[config]") {
  controller::ControllerConfig running;
  controller::ControllerConfig next = running;
  next.log_level = log::Level::debug;  // applied by the reload itself
  next.admins = {"alice"};
  CHECK(controller::settings_needing_restart(running, next).empty());
  next.max_batch = 7;
  next.scorer_weights["nic-numa"] = 0;
  next.tls.cert = "/etc/switchyard/new.crt";
  CHECK(controller::settings_needing_restart(running, next) ==
        std::vector<std::string>{"store.max_batch", "scheduler.weights", "tls"});
}
