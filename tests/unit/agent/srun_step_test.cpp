// Where srun inside a batch script puts its tasks: its options, else the job's defaults.
#include <catch2/catch.hpp>

#include "agent/slurm_shims.hpp"

using namespace sy::agent;

namespace {

const std::vector<std::string> kJob = {"n1", "n2", "n3"};

// srun [-N nodes] [-n ntasks] [--ntasks-per-node per] [-w list]
SrunRequest req(std::optional<int> nodes, std::optional<int> ntasks,
                std::optional<int> per_node = std::nullopt, std::string list = "") {
  SrunRequest r;
  r.nodes = nodes;
  r.ntasks = ntasks;
  r.ntasks_per_node = per_node;
  r.nodelist = std::move(list);
  return r;
}

SrunStep plan(const SrunRequest& r, std::optional<int> env_ntasks = 6, int env_per_node = 2) {
  auto step = plan_srun_step(r, kJob, env_ntasks, env_per_node);
  if (!step) FAIL(step.error());
  return step.value();
}

std::string refusal(const SrunRequest& r) {
  auto step = plan_srun_step(r, kJob, 6, 2);
  REQUIRE_FALSE(step.ok());
  return step.error();
}

}  // namespace

TEST_CASE("srun without options runs the job's tasks on all its nodes", "[srun]") {
  const SrunStep s = plan(req(std::nullopt, std::nullopt));
  CHECK(s.nodes == kJob);
  CHECK(s.tasks == std::vector<int>{2, 2, 2});
  CHECK(plan(req(std::nullopt, std::nullopt), std::nullopt, 1).tasks == std::vector<int>{1, 1, 1});
}

TEST_CASE("srun's options choose the nodes and tasks", "[srun]") {
  CHECK(plan(req(1, 1, std::nullopt, "")).tasks == std::vector<int>{1});
  CHECK(plan(req(1, 1, std::nullopt, "")).nodes == std::vector<std::string>{"n1"});
  // -N alone: SLURM_NTASKS_PER_NODE on each, as Slurm's srun reads it.
  CHECK(plan(req(2, std::nullopt, std::nullopt, "")).tasks == std::vector<int>{2, 2});
  CHECK(plan(req(2, std::nullopt, 3, "")).tasks == std::vector<int>{3, 3});
  // -n alone: as many nodes as tasks, at most the job's; blocks, the first nodes take more.
  CHECK(plan(req(std::nullopt, 2, std::nullopt, "")).nodes == std::vector<std::string>{"n1", "n2"});
  CHECK(plan(req(std::nullopt, 7, std::nullopt, "")).tasks == std::vector<int>{3, 2, 2});
  const SrunStep w = plan(req(std::nullopt, 1, std::nullopt, "n3"));
  CHECK(w.nodes == std::vector<std::string>{"n3"});
  CHECK(w.tasks == std::vector<int>{1});
  CHECK(plan(req(std::nullopt, std::nullopt, std::nullopt, "n[2-3]")).tasks ==
        std::vector<int>{2, 2});
}

TEST_CASE("srun refuses steps the job cannot hold", "[srun]") {
  CHECK(refusal(req(4, std::nullopt, std::nullopt, "")) ==
        "--nodes=4 is more than the job's 3 nodes");
  CHECK(refusal(req(std::nullopt, std::nullopt, std::nullopt, "n9")) ==
        "node n9 is not in the job's allocation (n[1-3])");
  CHECK(refusal(req(2, 1, std::nullopt, "")) == "1 tasks cannot cover 2 nodes");
  CHECK(refusal(req(1, std::nullopt, std::nullopt, "n[1-2]")) ==
        "--nodes=1 does not match the 2 nodes of --nodelist");
  CHECK(refusal(req(std::nullopt, std::nullopt, std::nullopt, "n[")).rfind("--nodelist=n[: ", 0) ==
        0);
}
