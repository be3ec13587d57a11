#pragma once
// The report both all-reduce examples print, in the columns nccl-tests uses: for each message
// size the time of one all-reduce, the algorithm bandwidth (bytes / time) and the bus bandwidth
// (algbw * 2(n-1)/n: what each link carried, comparable across rank counts), then the average
// bus bandwidth. Values are sums of every rank's contribution, checked on every rank.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace allreduce {

struct Options {
  std::int64_t min_bytes = 8;
  std::int64_t max_bytes = 32 << 20;
  int iterations = 20;
  int warmup = 5;
};

// "8", "64K", "128M", "1G".
inline std::int64_t parse_size(const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  const char unit = end && *end ? *end : 'B';
  const std::int64_t scale = unit == 'K' || unit == 'k'   ? 1 << 10
                             : unit == 'M' || unit == 'm' ? 1 << 20
                             : unit == 'G' || unit == 'g' ? 1 << 30
                                                          : 1;
  return static_cast<std::int64_t>(v * static_cast<double>(scale));
}

// Returns false (after printing why) on a bad command line.
inline bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "allreduce: %s needs a value\n", a.c_str());
      return false;
    }
    if (a == "--min-bytes" || a == "-b") {
      o.min_bytes = parse_size(argv[++i]);
    } else if (a == "--max-bytes" || a == "-e") {
      o.max_bytes = parse_size(argv[++i]);
    } else if (a == "--iters" || a == "-n") {
      o.iterations = std::atoi(argv[++i]);
    } else if (a == "--warmup" || a == "-w") {
      o.warmup = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--min-bytes 8] [--max-bytes 32M] [--iters 20] [--warmup 5]\n",
                   argv[0]);
      return false;
    }
  }
  if (o.min_bytes < 4 || o.max_bytes < o.min_bytes || o.iterations < 1 || o.warmup < 0) {
    std::fprintf(stderr, "allreduce: sizes must be >= 4 bytes, min <= max, iters >= 1\n");
    return false;
  }
  return true;
}

inline void print_header(const char* what, int ranks) {
  std::printf("# %s all-reduce (sum, float), %d ranks\n", what, ranks);
  std::printf("#%12s %12s %6s %6s %10s %9s %9s %7s\n", "size", "count", "type", "redop", "time(us)",
              "algbw", "busbw", "#wrong");
  std::printf("#%12s %12s %6s %6s %10s %9s %9s %7s\n", "(B)", "(elements)", "", "", "", "(GB/s)",
              "(GB/s)", "");
}

// Prints one row; returns the bus bandwidth.
inline double print_row(std::int64_t bytes, double seconds, int ranks, std::int64_t wrong) {
  const double algbw = static_cast<double>(bytes) / seconds / 1e9;
  const double busbw = algbw * 2.0 * (ranks - 1) / ranks;
  std::printf(" %12lld %12lld %6s %6s %10.1f %9.2f %9.2f %7lld\n", static_cast<long long>(bytes),
              static_cast<long long>(bytes / 4), "float", "sum", seconds * 1e6, algbw, busbw,
              static_cast<long long>(wrong));
  return busbw;
}

inline void print_footer(double busbw_sum, int rows, std::int64_t wrong) {
  std::printf("# Out of bounds values : %lld %s\n", static_cast<long long>(wrong),
              wrong ? "FAILED" : "OK");
  std::printf("# Avg bus bandwidth    : %.4f\n", rows ? busbw_sum / rows : 0.0);
  std::fflush(stdout);
}

// Rank r contributes (r + 1) * (i % 7 + 1) to element i: the sum is known on every rank.
inline float contribution(int rank, std::int64_t i) {
  return static_cast<float>((rank + 1) * (i % 7 + 1));
}
inline float expected_sum(int ranks, std::int64_t i) {
  return static_cast<float>(ranks * (ranks + 1) / 2 * (i % 7 + 1));
}

}  // namespace allreduce
