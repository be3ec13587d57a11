// Catch2's main, compiled once for every test binary (it alone takes ~17 s to build). A run that
// passed but skipped something exits 77, which ctest reports as Skipped (tests/support/skip.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>
#include <mutex>

#include "tests/support/skip.hpp"

namespace sy::test {
namespace {
std::mutex skip_mutex;
bool skipped = false;
}  // namespace

void announce_skip(const std::string& why) {
  std::lock_guard lock(skip_mutex);
  skipped = true;
  std::cout << "SY-SKIPPED: " << why << std::endl;
}

void announce_skip_for_package(const std::string& why, const std::string& package) {
  announce_skip(why + " [package " + package + "]");
}

bool anything_skipped() {
  std::lock_guard lock(skip_mutex);
  return skipped;
}

}  // namespace sy::test

int main(int argc, char* argv[]) {
  const int failed = Catch::Session().run(argc, argv);
  if (failed == 0 && sy::test::anything_skipped()) return 77;
  return failed;
}
