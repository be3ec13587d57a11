// A NCCL all-reduce benchmark on GPU memory (ncclAllReduce, sum of floats), one GPU per process,
// reporting bus bandwidth the way nccl-tests does. Built when the CUDA toolkit (with NCCL) is
// found. Under mpirun (`mpi` launcher) the NCCL id goes out by MPI_Bcast; under the `env`
// launcher rank 0 hands it out over TCP at MASTER_ADDR:MASTER_PORT, as torch's store does.
#include <arpa/inet.h>
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_report.hpp"

namespace {

#define CHECK_CUDA(x)                                                              \
  do {                                                                             \
    cudaError_t e = (x);                                                           \
    if (e != cudaSuccess) {                                                        \
      std::fprintf(stderr, "allreduce_nccl: %s: %s\n", #x, cudaGetErrorString(e)); \
      std::exit(3);                                                                \
    }                                                                              \
  } while (0)
#define CHECK_NCCL(x)                                                              \
  do {                                                                             \
    ncclResult_t r = (x);                                                          \
    if (r != ncclSuccess) {                                                        \
      std::fprintf(stderr, "allreduce_nccl: %s: %s\n", #x, ncclGetErrorString(r)); \
      std::exit(3);                                                                \
    }                                                                              \
  } while (0)

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

bool send_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Rank 0 listens on MASTER_PORT and sends the id to every other rank; the others connect
// (retrying for a minute while rank 0 starts).
ncclUniqueId exchange_id_over_tcp(int rank, int ranks) {
  ncclUniqueId id{};
  const char* addr = std::getenv("MASTER_ADDR");
  const std::string port = std::to_string(env_int("MASTER_PORT", 29500));
  if (!addr) {
    std::fprintf(stderr, "allreduce_nccl: MASTER_ADDR is not set (run under sy's env launcher)\n");
    std::exit(2);
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (rank == 0) {
    CHECK_NCCL(ncclGetUniqueId(&id));
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(nullptr, port.c_str(), &hints, &res) != 0) std::exit(3);
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s, res->ai_addr, res->ai_addrlen) != 0 || ::listen(s, ranks) != 0) {
      std::perror("allreduce_nccl: listen on MASTER_PORT");
      std::exit(3);
    }
    for (int r = 1; r < ranks; ++r) {
      const int c = ::accept(s, nullptr, nullptr);
      if (c < 0 || !send_all(c, &id, sizeof id)) std::exit(3);
      ::close(c);
    }
    ::close(s);
  } else {
    if (getaddrinfo(addr, port.c_str(), &hints, &res) != 0) std::exit(3);
    for (int attempt = 0;; ++attempt) {
      const int c = ::socket(AF_INET, SOCK_STREAM, 0);
      if (::connect(c, res->ai_addr, res->ai_addrlen) == 0) {
        std::size_t got = 0;
        while (got < sizeof id) {
          const ssize_t n = ::recv(c, reinterpret_cast<char*>(&id) + got, sizeof id - got, 0);
          if (n <= 0) std::exit(3);
          got += static_cast<std::size_t>(n);
        }
        ::close(c);
        break;
      }
      ::close(c);
      if (attempt > 600) {
        std::fprintf(stderr, "allreduce_nccl: cannot reach rank 0 at %s:%s\n", addr, port.c_str());
        std::exit(3);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  freeaddrinfo(res);
  return id;
}

}  // namespace

int main(int argc, char** argv) {
  const bool under_mpi = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
  int rank = env_int("RANK", 0), ranks = env_int("WORLD_SIZE", 1);
  if (under_mpi) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  }
  allreduce::Options o;
  if (!allreduce::parse_options(argc, argv, o)) return 2;
  // sy gives each process its GPU in CUDA_VISIBLE_DEVICES: it is device 0 here.
  CHECK_CUDA(cudaSetDevice(0));
  ncclUniqueId id{};
  if (under_mpi) {
    if (rank == 0) CHECK_NCCL(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
  } else {
    id = exchange_id_over_tcp(rank, ranks);
  }
  ncclComm_t comm;
  CHECK_NCCL(ncclCommInitRank(&comm, ranks, id, rank));
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreate(&stream));
  if (rank == 0) {
    cudaDeviceProp prop{};
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    allreduce::print_header("NCCL", ranks);
    std::printf("#  rank 0 device: %s\n", prop.name);
  }
  std::int64_t total_wrong = 0;
  double busbw_sum = 0;
  int rows = 0;
  for (std::int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 2) {
    const std::int64_t count = bytes / 4;
    std::vector<float> host(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i)
      host[static_cast<std::size_t>(i)] = allreduce::contribution(rank, i);
    float *send = nullptr, *recv = nullptr;
    CHECK_CUDA(cudaMalloc(&send, static_cast<std::size_t>(bytes)));
    CHECK_CUDA(cudaMalloc(&recv, static_cast<std::size_t>(bytes)));
    CHECK_CUDA(
        cudaMemcpy(send, host.data(), static_cast<std::size_t>(bytes), cudaMemcpyHostToDevice));
    for (int w = 0; w < o.warmup; ++w)
      CHECK_NCCL(ncclAllReduce(send, recv, static_cast<std::size_t>(count), ncclFloat, ncclSum,
                               comm, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
    const auto start = std::chrono::steady_clock::now();
    for (int it = 0; it < o.iterations; ++it)
      CHECK_NCCL(ncclAllReduce(send, recv, static_cast<std::size_t>(count), ncclFloat, ncclSum,
                               comm, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
        o.iterations;
    CHECK_CUDA(
        cudaMemcpy(host.data(), recv, static_cast<std::size_t>(bytes), cudaMemcpyDeviceToHost));
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < count; ++i)
      wrong += host[static_cast<std::size_t>(i)] != allreduce::expected_sum(ranks, i);
    CHECK_CUDA(cudaFree(send));
    CHECK_CUDA(cudaFree(recv));
    total_wrong += wrong;  // each rank checks its own result; rank 0 reports its own
    if (rank == 0) {
      busbw_sum += allreduce::print_row(bytes, seconds, ranks, wrong);
      ++rows;
    }
  }
  if (rank == 0) allreduce::print_footer(busbw_sum, rows, total_wrong);
  ncclCommDestroy(comm);
  if (under_mpi) MPI_Finalize();
  return total_wrong == 0 ? 0 : 1;
}
