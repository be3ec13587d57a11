#include "common/topology/link.hpp"

#include <charconv>

namespace sy::topo {
namespace {
// Per NVLink, per direction: 25 GB/s for NVLink 2, 3 and 4 (V100: 6 links = 150 GB/s,
// A100: 12 = 300 GB/s, H100: 18 = 450 GB/s each way, per NVIDIA's data sheets).
constexpr double kPerNvlinkGbps = 25.0;
}  // namespace

std::string Link::name() const {
  switch (kind) {
    case LinkKind::nvlink:
      return "NV" + std::to_string(nvlinks);
    case LinkKind::pix:
      return "PIX";
    case LinkKind::pxb:
      return "PXB";
    case LinkKind::phb:
      return "PHB";
    case LinkKind::node:
      return "NODE";
    case LinkKind::sys:
      return "SYS";
  }
  return "SYS";
}

double Link::bandwidth_gbps() const {
  // PCIe 4.0 x16 moves ~24 GB/s each way through one switch; every further hop (more bridges,
  // the host bridge, the link between host bridges, the socket interconnect) costs some of it.
  switch (kind) {
    case LinkKind::nvlink:
      return kPerNvlinkGbps * nvlinks;
    case LinkKind::pix:
      return 24.0;
    case LinkKind::pxb:
      return 22.0;
    case LinkKind::phb:
      return 20.0;
    case LinkKind::node:
      return 16.0;
    case LinkKind::sys:
      return 10.0;
  }
  return 10.0;
}

int Link::distance_rank() const {
  switch (kind) {
    case LinkKind::nvlink:
      return 100 - nvlinks;  // NV18 closer than NV2
    case LinkKind::pix:
      return 101;
    case LinkKind::pxb:
      return 102;
    case LinkKind::phb:
      return 103;
    case LinkKind::node:
      return 104;
    case LinkKind::sys:
      return 105;
  }
  return 105;
}

Result<Link, std::string> parse_link(std::string_view t) {
  if (t == "PIX") return Link{LinkKind::pix, 0};
  if (t == "PXB") return Link{LinkKind::pxb, 0};
  if (t == "PHB") return Link{LinkKind::phb, 0};
  if (t == "NODE") return Link{LinkKind::node, 0};
  if (t == "SYS" || t == "SOC") return Link{LinkKind::sys, 0};
  if (t.size() > 2 && t.substr(0, 2) == "NV") {
    int n = 0;
    auto [p, ec] = std::from_chars(t.data() + 2, t.data() + t.size(), n);
    if (ec == std::errc() && p == t.data() + t.size() && n >= 1 && n <= 64) {
      return Link{LinkKind::nvlink, n};
    }
  }
  return fail("'" + std::string(t) + "' is not a link class (NV#, PIX, PXB, PHB, NODE, SYS)");
}

}  // namespace sy::topo
