# Warnings are errors for project code only: dependency headers come from /usr/include,
# which the compiler treats as system headers and does not warn about.
add_library(sy_warnings INTERFACE)
target_compile_options(sy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
if(SY_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false maybe-uninitialized errors inside libstdc++'s <regex> when ASan is on
  # (GCC bug 105562). Only the sanitizer build drops the check; release builds keep it.
  target_compile_options(sy_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O2 reports impossible overlaps inside std::string's operator+ (GCC bug 105329).
  target_compile_options(sy_warnings INTERFACE -Wno-restrict)
endif()
