# Warnings are errors for project code only: dependency headers come from /usr/include,
# which the compiler treats as system headers and does not warn about.
add_library(sy_warnings INTERFACE)
target_compile_options(sy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
