#pragma once
// How two devices in a node are connected, in the classes `nvidia-smi topo -m` prints, with an
// estimated one-direction bandwidth. The order NV# > PIX > PXB > PHB > NODE > SYS is what
// placement relies on; the numbers are estimates documented in docs/topology.md.

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sy::topo {

enum class LinkKind { nvlink, pix, pxb, phb, node, sys };

struct Link {
  LinkKind kind = LinkKind::sys;
  int nvlinks = 0;  // bonded NVLinks, for kind == nvlink

  std::string name() const;       // "NV12", "PIX", ...
  double bandwidth_gbps() const;  // GB/s, one direction
  // Smaller is closer: NV links by count (more is closer), then PIX < PXB < PHB < NODE < SYS.
  int distance_rank() const;
  bool operator==(const Link&) const = default;
};

// "NV4", "PIX", "PXB", "PHB", "NODE", "SYS" (also the old "SOC" for SYS).
Result<Link, std::string> parse_link(std::string_view text);

}  // namespace sy::topo
