// The `nvidia-smi topo -m` parser on arbitrary text (what the agent reads from the tool, and
// what admins hand it as a file).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/topology/nvidia_smi_topo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto topology = sy::topo::parse_nvidia_smi_topo(text, "fuzz.txt");
  (void)topology;
  return 0;
}
