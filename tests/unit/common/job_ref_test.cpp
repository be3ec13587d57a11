#include <catch2/catch.hpp>

#include "common/comma_list.hpp"
#include "common/job_record.hpp"

using namespace sy;

TEST_CASE("job references: 12 and 12_3, nothing else", "[job]") {
  auto plain = parse_job_ref("12");
  REQUIRE(plain);
  CHECK(plain->id == 12);
  CHECK_FALSE(plain->task);
  auto task = parse_job_ref("12_0");
  REQUIRE(task);
  CHECK(task->id == 12);
  CHECK(task->task == 0);
  JobRecord r;
  r.id = 15;
  r.array_id = 12;
  r.array_index = 3;
  CHECK(parse_job_ref(r.display_id())->task == 3);  // what is shown reads back
  for (const char* bad :
       {"", "0", "-1", "12_", "_3", "12_-1", "12_3_4", "x", "12x", "12_1000001"}) {
    INFO(bad);
    CHECK_FALSE(parse_job_ref(bad));
  }
}

TEST_CASE("comma lists read back what they wrote", "[common]") {
  CHECK(split_commas("").empty());
  CHECK(join_commas(std::vector<std::string>{}).empty());
  CHECK(split_commas(join_commas(std::vector<std::string>{"ib", "nvme"})) ==
        std::vector<std::string>{"ib", "nvme"});
  CHECK(join_commas(std::vector<std::int64_t>{12, 13}) == "12,13");
  CHECK(split_commas("a,,b") == std::vector<std::string>{"a", "", "b"});
}
