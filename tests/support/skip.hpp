#pragma once
// Skipping a test visibly. A test that cannot run here says why with SY_SKIP (or, when a Debian
// package would let it run, SY_SKIP_FOR_PACKAGE) and returns. The test binary's main then exits
// 77 if nothing failed, which ctest shows as Skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt);
// a failure elsewhere in the same run still fails it. scripts/test lists every skip with its
// reason and fails a run in which a skip names a package that scripts/install-deps installs.

#include <string>

namespace sy::test {

// Prints "SY-SKIPPED: why" and remembers that this run skipped something.
void announce_skip(const std::string& why);
// The same, with " [package NAME]" after the reason: the package that would let it run.
void announce_skip_for_package(const std::string& why, const std::string& package);
bool anything_skipped();

}  // namespace sy::test

#define SY_SKIP(why)                \
  do {                              \
    ::sy::test::announce_skip(why); \
    return;                         \
  } while (0)

#define SY_SKIP_FOR_PACKAGE(why, package)                \
  do {                                                   \
    ::sy::test::announce_skip_for_package(why, package); \
    return;                                              \
  } while (0)
