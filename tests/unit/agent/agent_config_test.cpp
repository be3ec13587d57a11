#include <catch2/catch.hpp>

#include "agent/agent_config.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sy;

TEST_CASE("the example agent configuration loads with every field", "[config]") {
  agent::AgentSettings s;
  auto read = agent::read_agent_config(test::source_dir() + "/examples/config/agent.yaml", s);
  INFO((read.ok() ? "" : read.error().to_string()));
  REQUIRE(read.ok());
  CHECK(s.controller == "https://controller.example:6820");
  CHECK(s.tls.cert == "/etc/switchyard/node.crt");
  CHECK(s.features == "nvme,ib");
  CHECK(s.tier0_quota == "3T");
  CHECK(s.stage_bandwidth == "2G");
  CHECK(s.cgroup == "auto");
  CHECK(s.metrics_listen == "0.0.0.0:9101");
  CHECK(s.node_name.empty());   // left to the host name
  CHECK(s.mpirun == "mpirun");  // a default the file leaves alone
}

TEST_CASE("bad agent configurations are refused with their place", "[config]") {
  test::TempDir dir;
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"tier0_quota: lots\n", ":1:1: tier0_quota: must match ^[0-9]+[KMGT]?$"},
      {"node_name: \"no spaces\"\n", ":1:1: node_name: must match ^[A-Za-z0-9]"},
      {"tls: {ca: /a}\n", ":1:1: tls.cert: is required"},
      {"controler: x\n", ":1:1: controler: unknown field"},
      {"insecure: yes please\n", ":1:1: insecure: must be true or false"},
      {"metrics_listen: everywhere\n", ":1:1: metrics_listen: must be HOST:PORT"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.write("agent.yaml", c.yaml);
    agent::AgentSettings s;
    auto read = agent::read_agent_config(path, s);
    INFO(c.yaml);
    REQUIRE_FALSE(read.ok());
    INFO(read.error().to_string());
    CHECK(read.error().to_string().find(path + std::string(c.error)) != std::string::npos);
  }
}

TEST_CASE("an agent reload names the settings that wait for a restart", "[config]") {
  agent::AgentSettings running;
  agent::AgentSettings next = running;
  next.log_level = "debug";  // applied by the reload itself
  next.stage_bandwidth = "1G";
  CHECK(agent::agent_settings_needing_restart(running, next).empty());
  next.features = "ib";
  next.mpirun = "/opt/openmpi/bin/mpirun";
  CHECK(agent::agent_settings_needing_restart(running, next) ==
        std::vector<std::string>{"features", "mpirun"});
}
