// An MPI all-reduce benchmark on CPU memory (MPI_Allreduce, sum of floats), reporting bus
// bandwidth the way nccl-tests does. Built whenever Open MPI is found; `sy` runs it with the
// `mpi` launcher (examples/jobs/allreduce-mpi.yaml). Rank 0 prints; every rank checks.
#include <mpi.h>
#include <unistd.h>

#include <vector>

#include "bench_report.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  allreduce::Options o;
  if (!allreduce::parse_options(argc, argv, o)) {
    MPI_Finalize();
    return 2;
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  // Where each rank runs, in rank order: the placement as the job saw it.
  std::vector<char> hosts(static_cast<std::size_t>(ranks) * 256);
  MPI_Gather(host, 256, MPI_CHAR, hosts.data(), 256, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    allreduce::print_header("MPI (CPU)", ranks);
    for (int r = 0; r < ranks; ++r)
      std::printf("#  rank %d on %s\n", r, &hosts[static_cast<std::size_t>(r) * 256]);
  }
  std::int64_t total_wrong = 0;
  double busbw_sum = 0;
  int rows = 0;
  for (std::int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 2) {
    const std::int64_t count = bytes / 4;
    std::vector<float> send(static_cast<std::size_t>(count)), recv(send.size());
    for (std::int64_t i = 0; i < count; ++i)
      send[static_cast<std::size_t>(i)] = allreduce::contribution(rank, i);
    for (int w = 0; w < o.warmup; ++w)
      MPI_Allreduce(send.data(), recv.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    for (int it = 0; it < o.iterations; ++it)
      MPI_Allreduce(send.data(), recv.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    double elapsed = (MPI_Wtime() - start) / o.iterations, slowest = 0;
    MPI_Reduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    std::int64_t wrong = 0, all_wrong = 0;
    for (std::int64_t i = 0; i < count; ++i)
      wrong += recv[static_cast<std::size_t>(i)] != allreduce::expected_sum(ranks, i);
    MPI_Reduce(&wrong, &all_wrong, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      busbw_sum += allreduce::print_row(bytes, slowest, ranks, all_wrong);
      ++rows;
      total_wrong += all_wrong;
    }
  }
  MPI_Bcast(&total_wrong, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (rank == 0) allreduce::print_footer(busbw_sum, rows, total_wrong);
  MPI_Finalize();
  return total_wrong == 0 ? 0 : 1;
}
