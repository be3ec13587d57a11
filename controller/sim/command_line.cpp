#include "controller/sim/command_line.hpp"

#include "common/units.hpp"
#include "controller/sim/policies.hpp"

namespace sy::sim {

SimCommandLine::SimCommandLine() {
  command_line::set_up_program(
      app,
      "the Switchyard trace simulator\n"
      "Replays a job trace on a simulated cluster, once per policy, with the scheduler the\n"
      "controller runs, and writes DIR/summary.json and DIR/jobs-POLICY.csv.");
  CLI::Option* trace =
      app.add_option("--trace", trace_file, "the trace (../shared/traces/README.md's 8-column CSV)")
          ->type_name("FILE.csv");
  app.add_option("--cluster", cluster_file, "the simulated cluster (examples/sim/cluster-*.yaml)")
      ->required()
      ->type_name("CLUSTER.yaml");
  app.add_option("--policy", policies,
                 "fifo-firstfit, slurm-like, switchyard, switchyard-no-data or "
                 "switchyard-no-topology (repeatable; default: all of them)")
      ->check(CLI::IsMember(kPolicies))
      ->type_name("NAME");
  app.add_option("--model", model_file, "runtime model (default examples/sim/runtime-model.yaml)")
      ->type_name("FILE");
  app.add_option("--out", out_dir, "where to write (default sim-out)")->type_name("DIR");
  app.add_option("--limit-factor", options.limit_factor,
                 "users' time limits are X times the ideal run time (default 2)")
      ->check(CLI::Range(1.0, 1e6))
      ->type_name("X");
  app.add_option_function<std::string>(
         "--tier0",
         [this](const std::string& text) {
           auto mib = parse_size_mib(text, kMaxStorageSizeMib);
           if (!mib) throw CLI::ValidationError("--tier0", mib.error());
           tier0_mib = mib.value();
         },
         "every node's dataset cache, e.g. 200G (default: the cluster file's)")
      ->type_name("SIZE");
  app.add_option("--backfill-depth", backfill_depth,
                 "jobs backfill looks at after the reservation (default 1000, as the "
                 "controller's scheduler.backfill_depth)")
      ->check(CLI::Range(0, 10000000))
      ->type_name("N");

  const std::string generator = "Generated trace (--synthetic)";
  app.add_flag("--synthetic", synthetic,
               "replay a generated trace instead, written to DIR/trace.csv (docs/architecture.md)")
      ->excludes(trace)
      ->group(generator);
  app.add_option("--jobs", spec.jobs, "jobs (default 5000)")
      ->check(CLI::Range(1, 100000000))
      ->type_name("N")
      ->group(generator);
  app.add_option("--load", spec.load,
                 "offered GPU demand over the submit span / the cluster's GPUs (default 1.0; "
                 "above 1 the queue grows while jobs arrive)")
      ->type_name("X")
      ->group(generator);
  app.add_option("--multi-gpu-share", spec.multi_gpu_share,
                 "share of jobs with more than one GPU, 0-1 (default 0.15)")
      ->type_name("X")
      ->group(generator);
  app.add_option_function<std::string>(
         "--sizes",
         [this](const std::string& text) {
           auto mix = parse_size_mix(text);
           if (!mix) throw CLI::ValidationError("--sizes", mix.error());
           spec.sizes = std::move(mix).value();
         },
         "their sizes, GPUS:WEIGHT,... (default 2:25,4:30,8:30,16:10,32:5)")
      ->type_name("MIX")
      ->group(generator);
  app.add_option("--duration-median", spec.duration_median_s,
                 "run time at the best placement: log-normal, median S seconds (default 1800), "
                 "clipped to 60 s - 7 days")
      ->type_name("S")
      ->group(generator);
  app.add_option("--duration-sigma", spec.duration_sigma, "its log-scale spread (default 1.5)")
      ->type_name("X")
      ->group(generator);
  app.add_option("--users", spec.users, "users, each its own account (default 8)")
      ->check(CLI::Range(0, 1000000000))
      ->type_name("N")
      ->group(generator);
  app.add_option("--datasets", spec.datasets,
                 "datasets of 1-200 GB, one per job (default 20; 0: none)")
      ->check(CLI::Range(0, 1000000000))
      ->type_name("N")
      ->group(generator);
  app.add_option("--seed", spec.seed, "the generator's seed (default 1)")
      ->type_name("N")
      ->group(generator);
  command_line::set_examples(
      app, {"sy-sim --trace ../shared/traces/philly.csv --cluster examples/sim/cluster-1024.yaml",
            "sy-sim --synthetic --load 1.5 --multi-gpu-share 0.3 --cluster "
            "examples/sim/cluster-128.yaml --out grid-1.5"});
}

}  // namespace sy::sim
