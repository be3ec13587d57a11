#pragma once
// How `sy` writes sizes and staging progress, the same in `sy stage`, `sy dataset` and `sy show`.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sy::cli {

// "976.6 KiB": binary units, as everywhere else in sy.
std::string bytes_text(std::int64_t bytes);
// A stage report (bytes/files done and total, seconds) as
// "[#########-----------]  45%  1.2 GiB/2.6 GiB  12000/50000 files  310 MiB/s  ETA 5s".
std::string progress_line(const nlohmann::json& report);

}  // namespace sy::cli
