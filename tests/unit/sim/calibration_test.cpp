// The runtime model against measurements: for each model family in Gavel's packed-vs-spread V100
// throughputs, the simulated slowdown of spreading a 2-, 4- or 8-GPU job one GPU per server
// (versus its best ring on one DGX-1 V100) lies within the range measured for that family.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "controller/sim/runtime_model.hpp"
#include "tests/support/cluster_builder.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;

TEST_CASE("simulated spread-vs-packed slowdowns lie within the measured range of each family",
          "[sim][calibration]") {
  const std::string data =
      test::source_dir() + "/tests/data/placement/gavel_v100_consolidation.csv";
  REQUIRE(std::filesystem::exists(data));
  auto model = sim::RuntimeModel::load(test::source_dir() + "/examples/sim/runtime-model.yaml");
  REQUIRE(model.ok());
  const auto& dgx1 = test::ClusterBuilder::fixture("dgx1-v100");

  struct Row {
    std::string model;
    int gpus;
    double slowdown;  // packed / spread throughput
  };
  std::vector<Row> rows;
  std::map<std::string, std::pair<double, double>> range;  // family -> (least, most)
  std::ifstream in(data);
  std::string line;
  std::getline(in, line);  // model,gpus,throughput_consolidated,throughput_unconsolidated,ratio
  while (std::getline(in, line)) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    const auto last = line.rfind(',');
    Row r{line.substr(0, c1), std::stoi(line.substr(c1 + 1, c2 - c1 - 1)),
          1.0 / std::stod(line.substr(last + 1))};
    const std::string family = r.model.substr(0, r.model.find(" ("));
    auto [it, fresh] = range.try_emplace(family, r.slowdown, r.slowdown);
    it->second.first = std::min(it->second.first, r.slowdown);
    it->second.second = std::max(it->second.second, r.slowdown);
    rows.push_back(r);
  }
  REQUIRE(range.size() >= 4);
  for (const Row& r : rows) {
    const std::string family = r.model.substr(0, r.model.find(" ("));
    sim::TraceJob job;
    job.id = r.model;
    job.model = r.model;
    const auto& cls = model->class_of(job);
    std::vector<int> all(dgx1.gpu_count());
    std::iota(all.begin(), all.end(), 0);
    const double packed =
        topo::ring_bottleneck_gbps(dgx1, topo::best_ring_subset(dgx1, all, r.gpus));
    const double simulated = model->runtime_s(cls, 1.0, packed, model->calibration_spread_gbps());
    INFO(r.model << " on " << r.gpus << " GPUs: class " << cls.name << ", simulated " << simulated
                 << "x, measured for " << family << " " << range[family].first << "-"
                 << range[family].second << "x");
    CHECK(cls.match.size() > 0);  // the family has its own class, not a random draw
    CHECK(simulated >= range[family].first);
    CHECK(simulated <= range[family].second);
  }
}
