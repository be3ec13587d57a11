#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "controller/sim/synthetic_trace.hpp"

using namespace sy::sim;

TEST_CASE("a synthetic trace has the load, gang share, sizes and run times it was asked for",
          "[sim][synthetic]") {
  SyntheticSpec spec;
  spec.jobs = 8000;
  spec.load = 1.3;
  spec.multi_gpu_share = 0.2;
  spec.sizes = {{4, 1}, {16, 1}};
  spec.duration_median_s = 1200;
  spec.duration_sigma = 1.0;
  spec.users = 5;
  spec.datasets = 7;
  const int gpus = 256;
  const auto trace = synthetic_trace(spec, gpus, {"lm", "resnet50"});
  REQUIRE(trace.size() == 8000);

  double gpu_seconds = 0;
  std::size_t multi = 0;
  std::set<std::string> users, datasets, models;
  std::vector<std::int64_t> durations;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const TraceJob& j = trace[i];
    if (i > 0) CHECK(j.submit_s >= trace[i - 1].submit_s);
    CHECK((j.gpus == 1 || j.gpus == 4 || j.gpus == 16));
    CHECK(j.duration_s >= 60);
    CHECK(j.duration_s <= 7 * 86400);
    CHECK(j.dataset_gb >= 1.0);
    CHECK(j.dataset_gb <= 200.0);
    multi += j.gpus > 1;
    gpu_seconds += static_cast<double>(j.gpus) * static_cast<double>(j.duration_s);
    users.insert(j.user);
    datasets.insert(j.dataset);
    models.insert(j.model);
    durations.push_back(j.duration_s);
  }
  // The offered load over the submit span is what was asked for (arrivals are random: the span
  // is the last arrival, within a few percent of the span the load was computed for).
  const double span = static_cast<double>(trace.back().submit_s);
  CHECK(gpu_seconds / (span * gpus) == Approx(1.3).epsilon(0.05));
  CHECK(static_cast<double>(multi) / 8000.0 == Approx(0.2).margin(0.02));
  std::nth_element(durations.begin(), durations.begin() + 4000, durations.end());
  CHECK(static_cast<double>(durations[4000]) == Approx(1200).epsilon(0.08));
  CHECK(users.size() == 5);
  CHECK(datasets.size() == 7);
  CHECK(models == std::set<std::string>{"lm", "resnet50"});
}

TEST_CASE("a synthetic trace is the same for the same seed and written as a trace file",
          "[sim][synthetic]") {
  SyntheticSpec spec;
  spec.jobs = 300;
  const auto a = synthetic_trace(spec, 128, {"lm"});
  const auto b = synthetic_trace(spec, 128, {"lm"});
  const std::string csv = trace_csv(a);
  CHECK(csv == trace_csv(b));
  spec.seed = 2;
  CHECK(csv != trace_csv(synthetic_trace(spec, 128, {"lm"})));

  // Written, it reads back as the same jobs: --synthetic's trace.csv can be replayed.
  auto back = parse_trace(csv, "trace.csv");
  REQUIRE(back.ok());
  REQUIRE(back->size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(back.value()[i].id == a[i].id);
    CHECK(back.value()[i].submit_s == a[i].submit_s);
    CHECK(back.value()[i].gpus == a[i].gpus);
    CHECK(back.value()[i].duration_s == a[i].duration_s);
    CHECK(back.value()[i].dataset == a[i].dataset);
    CHECK(back.value()[i].dataset_gb == Approx(a[i].dataset_gb).margin(0.05));
  }
}

TEST_CASE("synthetic trace parameters out of range are refused by name", "[sim][synthetic]") {
  auto mix = parse_size_mix("2:25,8:30");
  REQUIRE(mix.ok());
  CHECK(mix.value() == std::vector<std::pair<int, double>>{{2, 25}, {8, 30}});
  CHECK_THAT(parse_size_mix("8").error(), Catch::Contains("'8' is not GPUS:WEIGHT"));
  CHECK_THAT(parse_size_mix("1:5").error(), Catch::Contains("a multi-GPU size is 2-4096"));
  CHECK_THAT(parse_size_mix("4:0").error(), Catch::Contains("weight must be above 0"));
  CHECK_THAT(parse_size_mix("4:x").error(), Catch::Contains("'4:x'"));

  SyntheticSpec spec;
  REQUIRE(validate(spec).ok());
  spec.load = 0;
  CHECK_THAT(validate(spec).error(), Catch::Contains("load must be"));
  spec = {};
  spec.multi_gpu_share = 1.5;
  CHECK_THAT(validate(spec).error(), Catch::Contains("multi-GPU share"));
  spec = {};
  spec.duration_median_s = 10;
  CHECK_THAT(validate(spec).error(), Catch::Contains("median duration"));
  spec = {};
  spec.jobs = 0;
  CHECK_THAT(validate(spec).error(), Catch::Contains("jobs must be"));
}
