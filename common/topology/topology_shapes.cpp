#include "common/topology/topology_shapes.hpp"

#include "common/topology/topology_file.hpp"

namespace sy::topo {

NodeTopology shape_of(const NodeTopology& node) {
  NodeTopology shape = node;
  shape.name.clear();
  for (auto& g : shape.gpus)
    g.uuid.clear();
  return shape;
}

std::shared_ptr<const NodeTopology> TopologyShapes::intern(const NodeTopology& node) {
  NodeTopology shape = shape_of(node);
  // The document form is a complete, canonical key (every field, in a fixed order); a node
  // registers once per agent start, so its cost does not matter.
  std::string key = node_topology_to_json(shape).dump();
  auto& slot = shapes_[key];
  if (auto held = slot.lock()) {
    // The document rounds sizes: a key can be shared by shapes that differ. Such a node keeps
    // its own copy (correct, merely not shared).
    if (*held == shape) return held;
    return std::make_shared<const NodeTopology>(std::move(shape));
  }
  auto made = std::make_shared<const NodeTopology>(std::move(shape));
  slot = made;
  // Shapes no node holds any more (hardware replaced) go now and then, not on every insert.
  if (++inserts_since_sweep_ >= 64) {
    inserts_since_sweep_ = 0;
    std::erase_if(shapes_, [](const auto& entry) { return entry.second.expired(); });
  }
  return made;
}

std::size_t TopologyShapes::size() const {
  std::size_t n = 0;
  for (const auto& [key, shape] : shapes_)
    n += shape.expired() ? 0 : 1;
  return n;
}

}  // namespace sy::topo
