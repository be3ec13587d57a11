#pragma once
// The node topology format (schemas/topology.schema.json): YAML fixtures on disk, the same
// value as JSON when an agent registers. Reading checks what the schema cannot: the link
// matrix is square, symmetric and X on its diagonal, every NIC row has one entry per GPU,
// GPU indices run 0..N-1, and every NUMA reference names a listed NUMA node.

#include <string>

#include <nlohmann/json.hpp>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::topo {

Result<NodeTopology, SpecError> node_topology_from_document(const Document& doc);
Result<NodeTopology, SpecError> load_node_topology(const std::string& path);
// Reads back to an equal NodeTopology.
nlohmann::json node_topology_to_json(const NodeTopology& node);

}  // namespace sy::topo
