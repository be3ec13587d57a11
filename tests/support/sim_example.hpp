#pragma once
// The simulator's example inputs for tests: the 128-GPU cluster and the runtime model from
// examples/sim/, loaded or the test fails there.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "controller/sim/runtime_model.hpp"
#include "controller/sim/sim_cluster.hpp"
#include "tests/support/controller_fixture.hpp"

namespace sy::test {

template <typename Loaded>
auto loaded(Loaded result) {
  REQUIRE(result.ok());
  return std::move(result).value();
}

struct SimExample {
  sim::SimCluster cluster =
      loaded(sim::load_sim_cluster(source_dir() + "/examples/sim/cluster-128.yaml"));
  sim::RuntimeModel model =
      loaded(sim::RuntimeModel::load(source_dir() + "/examples/sim/runtime-model.yaml"));

  std::vector<std::string> class_names() const {
    std::vector<std::string> names;
    for (const auto& c : model.classes())
      names.push_back(c.name);
    return names;
  }
};

}  // namespace sy::test
