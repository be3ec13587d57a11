// Catch2's main, compiled once for every test binary (it alone takes ~17 s to build).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
