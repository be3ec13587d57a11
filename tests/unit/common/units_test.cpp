#include <catch2/catch.hpp>

#include "common/endpoint.hpp"
#include "common/units.hpp"

using namespace sy;

TEST_CASE("durations in Slurm and unit forms", "[units]") {
  const std::pair<const char*, std::int64_t> good[] = {
      {"90", 90 * 60},
      {"05:30", 5 * 60 + 30},
      {"2:00:00", 7200},
      {"1-12", 36 * 3600},
      {"1-00:30", 86400 + 1800},
      {"2-01:02:03", 2 * 86400 + 3723},
      {"45s", 45},
      {"30m", 1800},
      {"2h", 7200},
      {"1h30m", 5400},
      {"1d2h", 93600},
  };
  for (const auto& [text, seconds] : good) {
    INFO(text);
    auto parsed = parse_duration_seconds(text);
    REQUIRE(parsed.ok());
    CHECK(parsed.value() == seconds);
    CHECK(parse_duration_seconds(format_duration(seconds)).value() == seconds);
  }
  for (const char* bad : {"", "soon", "1:60", "0", "0m", "1h-2", "-5", "1.5h", "366d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_seconds(bad).ok());
  }
  CHECK(format_duration(3661) == "01:01:01");
  CHECK(format_duration(90061) == "1-01:01:01");
}

TEST_CASE("memory sizes in binary units", "[units]") {
  CHECK(parse_size_mib("512M").value() == 512);
  CHECK(parse_size_mib("16G").value() == 16384);
  CHECK(parse_size_mib("16GiB").value() == 16384);
  CHECK(parse_size_mib("80gb").value() == 80 * 1024);
  CHECK(parse_size_mib("1.5T").value() == 1536 * 1024);
  CHECK(parse_size_mib("2048K").value() == 2);
  CHECK(parse_size_mib("100").value() == 100);
  CHECK_FALSE(parse_size_mib("lots").ok());
  CHECK_FALSE(parse_size_mib("0").ok());
  CHECK_FALSE(parse_size_mib("17T").ok());
  CHECK(format_size_mib(16384) == "16G");
  CHECK(format_size_mib(1536) == "1536M");
}

TEST_CASE("UTC timestamps round-trip at millisecond precision", "[units]") {
  const std::int64_t ms = 1700000000123;
  CHECK(format_utc_ms(ms) == "2023-11-14T22:13:20.123Z");
  CHECK(parse_utc_ms(format_utc_ms(ms)).value() == ms);
  CHECK_FALSE(parse_utc_ms("yesterday").ok());
}

TEST_CASE("endpoints", "[units]") {
  CHECK(parse_endpoint("127.0.0.1:7000", 1).value().to_string() == "127.0.0.1:7000");
  CHECK(parse_endpoint("http://ctl.example:80/", 1).value().to_string() == "ctl.example:80");
  CHECK(parse_endpoint("localhost", 6820).value().port == 6820);
  CHECK(parse_endpoint("[::1]:9", 1).value().host == "::1");
  CHECK(parse_endpoint("[::1]:9", 1).value().to_string() == "[::1]:9");
  CHECK(parse_endpoint("h:0", 1).value().port == 0);
  CHECK_FALSE(parse_endpoint("h:70000", 1).ok());
  CHECK_FALSE(parse_endpoint("h:x", 1).ok());
  CHECK_FALSE(parse_endpoint(":80", 1).ok());
  CHECK_FALSE(parse_endpoint("::1:80", 1).ok());
  CHECK(parse_endpoint("https://h:1", 1).error() ==
        "'https://h:1' is not an address (want HOST:PORT): use it as a client address (sy, "
        "sy-agent)");
}
