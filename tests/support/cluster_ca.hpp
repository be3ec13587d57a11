#pragma once
// Test helpers for TLS clusters: a cluster CA made with scripts/cluster-ca, and the controller
// configuration that serves with it.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"

namespace sy::test {

// A cluster CA in `dir`: ca.crt, controller.{crt,key} for 127.0.0.1, and each node's pair.
inline void make_cluster_ca(const std::string& dir, const std::vector<std::string>& nodes) {
  const std::string script = source_dir() + "/scripts/cluster-ca";
  auto r = run_program({script, "init", dir});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(run_program({script, "controller", dir, "127.0.0.1"}).exit_code == 0);
  for (const auto& node : nodes)
    REQUIRE(run_program({script, "node", dir, node}).exit_code == 0);
}

// The controller's configuration for TLS with the CA in `ca_dir`, quick heartbeats, and `extra`.
inline std::string tls_config(const std::string& ca_dir, const std::string& extra = "") {
  return "tls: {ca: " + ca_dir + "/ca.crt, cert: " + ca_dir + "/controller.crt, key: " + ca_dir +
         "/controller.key}\nnodes: {heartbeat_interval_ms: 200, heartbeat_timeout_ms: 5000}\n" +
         extra;
}

}  // namespace sy::test
