// Public traces in other layouts become the simulator's trace: the rows written here follow the
// layouts of Alibaba's cluster-trace-gpu-v2020 (pai_job_table, pai_task_table: no header, the
// columns its README lists) and SenseTime's HeliosData cluster_log.csv (its header); the values
// are made up for the test.
#include <catch2/catch.hpp>

#include "controller/sim/trace.hpp"
#include "controller/sim/trace_convert.hpp"

using namespace sy;
using namespace sy::sim;

TEST_CASE("a PAI 2020 job's GPUs and run time come from its tasks", "[sim][traces]") {
  // job_name,inst_id,user,status,start_time,end_time
  const std::string jobs =
      "j-late,1,u2,Terminated,5000,9000\n"
      "j-gang,2,u1,Failed,1000,4000\n"
      "j-cpu,3,u1,Terminated,1500,1600\n"
      "j-running,4,u3,Running,2000,\n"
      "j-shared,5,u3,Terminated,1000.0,3000.0\n";
  // job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type
  const std::string tasks =
      "j-late,worker,1,Terminated,5100,5400,600,29.3,100,V100\n"
      "j-gang,ps,1,Failed,1010,3900,400,10,,MISC\n"
      "j-gang,worker,4,Failed,1020,4000,600,29.3,200,V100\n"
      "j-cpu,tensorflow,1,Terminated,1500,1600,600,29.3,,CPU\n"
      "j-running,worker,1,Running,2100,NaN,600,29.3,100,T4\n"
      "j-shared,worker,1,Terminated,1200,1500.4,600,29.3,25,T4\n";
  auto c = convert_pai2020(jobs, "pai_job_table.csv", tasks, "pai_task_table.csv");
  REQUIRE(c.ok());
  CHECK(c->dropped == 2);  // no GPUs; not ended
  REQUIRE(c->jobs.size() == 3);
  // Sorted by submit, then user: submits counted from the first.
  CHECK(c->jobs[0].id == "pai-000001");
  CHECK(c->jobs[0].user == "u1");
  CHECK(c->jobs[0].submit_s == 0);
  CHECK(c->jobs[0].gpus == 8);           // 4 instances of 2 GPUs; the ps holds none
  CHECK(c->jobs[0].duration_s == 2990);  // first task's start to the last one's end
  CHECK(c->jobs[1].user == "u3");
  CHECK(c->jobs[1].gpus == 1);  // a quarter GPU holds a whole one here
  CHECK(c->jobs[1].duration_s == 300);
  CHECK(c->jobs[2].id == "pai-000003");
  CHECK(c->jobs[2].submit_s == 4000);
  CHECK(c->jobs[2].duration_s == 300);

  // What it writes reads back as a trace.
  auto back = parse_trace(trace_csv(c->jobs), "converted.csv");
  REQUIRE(back.ok());
  CHECK(back->size() == 3);
  CHECK((*back)[0].gpus == 8);

  // A malformed row is named, never skipped.
  auto short_row = convert_pai2020(jobs, "pai_job_table.csv", "j-late,worker,1\n", "tasks.csv");
  REQUIRE_FALSE(short_row.ok());
  CHECK(short_row.error().rfind("tasks.csv:1: 3 fields; pai_task_table has 10", 0) == 0);
  auto bad_time = convert_pai2020("j-late,1,u2,Terminated,soon,9000\n", "jobs.csv", tasks, "t.csv");
  REQUIRE_FALSE(bad_time.ok());
  CHECK(bad_time.error() == "jobs.csv:1: start_time: 'soon' is not a number >= 0");
}

TEST_CASE("a Helios cluster log keeps GPU jobs that ran, by virtual cluster", "[sim][traces]") {
  const std::string log =
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,"
      "queue\n"
      "a1,u1,vcA,8,32,1,COMPLETED,2020-04-01 00:10:00,2020-04-01 00:11:00,"
      "2020-04-01 01:11:00,3600,60\n"
      "a2,u2,vcB,0,4,1,COMPLETED,2020-04-01 00:00:30,2020-04-01 00:00:31,"
      "2020-04-01 00:01:31,60,1\n"
      "a3,u3,vcB,16,64,2,FAILED,2020-04-01 00:00:07,2020-04-01 00:05:07,"
      "2020-04-01 00:06:07,60,300\n"
      "a4,u1,vcA,1,4,1,CANCELLED,2020-04-01 00:20:00,,,0,0\n";
  auto c = convert_helios(log, "cluster_log.csv");
  REQUIRE(c.ok());
  CHECK(c->dropped == 2);  // a CPU job; one cancelled before it ran
  REQUIRE(c->jobs.size() == 2);
  CHECK(c->jobs[0].id == "helios-000001");
  CHECK(c->jobs[0].user == "vc-vcB");
  CHECK(c->jobs[0].gpus == 16);
  CHECK(c->jobs[0].submit_s == 0);
  CHECK(c->jobs[1].submit_s == 593);  // 00:10:00 less 00:00:07
  CHECK(c->jobs[1].duration_s == 3600);

  auto no_column = convert_helios("job_id,user\n", "log.csv");
  REQUIRE_FALSE(no_column.ok());
  CHECK(no_column.error() == "log.csv:1: no 'gpu_num' column in the header");
  auto bad_time = convert_helios(
      "gpu_num,submit_time,duration,vc\n1,2020-04-01 00:10:00,60,a\n1,yesterday,60,a\n", "l.csv");
  REQUIRE_FALSE(bad_time.ok());
  CHECK(bad_time.error() ==
        "l.csv:3: submit_time: 'yesterday' is not a time like 2020-04-01 00:00:07");
}
