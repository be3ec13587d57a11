// The dataset manifest reader on arbitrary JSON (manifests come from the controller's store and
// travel to agents in stage orders).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/dataset/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return 0;
  auto manifest = sy::dataset::manifest_from_json(json);
  (void)manifest;
  return 0;
}
