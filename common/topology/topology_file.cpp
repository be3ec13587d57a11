#include "common/topology/topology_file.hpp"

#include <algorithm>
#include <set>

#include "common/schema_validator.hpp"
#include "common/unit_fields.hpp"
#include "common/units.hpp"

namespace sy::topo {
namespace {

std::string at(const std::string& list, std::size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

std::optional<int> optional_int(const nlohmann::json& j, const char* key) {
  return j.contains(key) ? std::optional<int>(j[key].get<int>()) : std::nullopt;
}

// Reads a link matrix row by row; `expect_self` puts X where row == column.
Result<std::vector<std::vector<Link>>, SpecError> read_links(const Document& doc,
                                                             const std::string& field,
                                                             std::size_t rows, std::size_t gpus,
                                                             bool expect_self) {
  const auto& m = doc.root()[field];
  if (m.size() != rows) {
    return fail(doc.error_at(field, "must have " + std::to_string(rows) + " rows, one per " +
                                        (expect_self ? "GPU" : "NIC")));
  }
  std::vector<std::vector<Link>> out(rows, std::vector<Link>(gpus));
  for (std::size_t r = 0; r < rows; ++r) {
    if (m[r].size() != gpus) {
      return fail(doc.error_at(at(field, r),
                               "must have " + std::to_string(gpus) + " entries, one per GPU"));
    }
    for (std::size_t c = 0; c < gpus; ++c) {
      const std::string text = m[r][c].get<std::string>();
      const std::string cell = at(at(field, r), c);
      if (expect_self && r == c) {
        if (text != "X") return fail(doc.error_at(cell, "must be X (a GPU's link to itself)"));
        continue;
      }
      auto link = parse_link(text);
      if (!link) return fail(doc.error_at(cell, link.error()));
      out[r][c] = link.value();
    }
  }
  if (expect_self) {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < r; ++c) {
        if (!(out[r][c] == out[c][r])) {
          return fail(doc.error_at(at(at(field, r), c),
                                   "is " + out[r][c].name() + " but GPU" + std::to_string(c) +
                                       " to GPU" + std::to_string(r) + " is " + out[c][r].name() +
                                       ": links must be symmetric"));
        }
      }
    }
  }
  return out;
}

}  // namespace

Result<NodeTopology, SpecError> node_topology_from_document(const Document& doc) {
  static const auto schema = SchemaValidator::builtin("topology.schema.json");
  if (auto valid = schema->validate(doc); !valid) return fail(std::move(valid).error());
  const nlohmann::json& j = doc.root();
  NodeTopology node;
  node.name = j.value("name", "");
  node.sockets = j.value("sockets", 1);
  node.cpus = j.value("cpus", 0);
  if (j.contains("memory")) {
    auto mib = size_field_mib(doc, j["memory"], "memory", kMaxStorageSizeMib);
    if (!mib) return fail(std::move(mib).error());
    node.memory_mib = mib.value();
  }
  std::set<int> numa_ids;
  for (std::size_t i = 0; j.contains("numa_nodes") && i < j["numa_nodes"].size(); ++i) {
    const auto& n = j["numa_nodes"][i];
    node.numa_nodes.push_back({n["id"].get<int>(), n.value("cpus", "")});
    if (!numa_ids.insert(node.numa_nodes.back().id).second) {
      return fail(doc.error_at(at("numa_nodes", i) + ".id", "NUMA node listed twice"));
    }
  }
  auto check_numa = [&](const std::optional<int>& numa,
                        const std::string& field) -> Result<void, SpecError> {
    if (numa && !numa_ids.empty() && !numa_ids.count(*numa)) {
      return fail(doc.error_at(
          field, "names NUMA node " + std::to_string(*numa) + ", which numa_nodes does not list"));
    }
    return {};
  };
  for (std::size_t i = 0; i < j["gpus"].size(); ++i) {
    const auto& g = j["gpus"][i];
    const std::string path = at("gpus", i);
    Gpu gpu{g["index"].get<int>(),      g.value("model", ""),
            g.value("uuid", ""),        0,
            g.value("pci_bus_id", ""),  optional_int(g, "numa"),
            g.value("pcie_switch", ""), g.value("device", "")};
    if (gpu.index != static_cast<int>(i)) {
      return fail(doc.error_at(path + ".index", "must be " + std::to_string(i) +
                                                    " (GPUs are listed in index order from 0)"));
    }
    if (g.contains("memory")) {
      auto mib = size_field_mib(doc, g["memory"], path + ".memory", kMaxMemorySizeMib);
      if (!mib) return fail(std::move(mib).error());
      gpu.memory_mib = mib.value();
    }
    if (auto r = check_numa(gpu.numa, path + ".numa"); !r) return fail(std::move(r).error());
    node.gpus.push_back(std::move(gpu));
  }
  for (std::size_t i = 0; j.contains("nics") && i < j["nics"].size(); ++i) {
    const auto& n = j["nics"][i];
    Nic nic{n["name"].get<std::string>(), optional_int(n, "numa"), n.value("pci_bus_id", ""),
            n.value("speed_gbps", 0.0), n.value("pcie_switch", "")};
    if (auto r = check_numa(nic.numa, at("nics", i) + ".numa"); !r)
      return fail(std::move(r).error());
    node.nics.push_back(std::move(nic));
  }
  for (std::size_t i = 0; j.contains("nvme") && i < j["nvme"].size(); ++i) {
    const auto& n = j["nvme"][i];
    auto mib = size_field_mib(doc, n["capacity"], at("nvme", i) + ".capacity", kMaxStorageSizeMib);
    if (!mib) return fail(std::move(mib).error());
    node.nvme.push_back({n["name"].get<std::string>(), optional_int(n, "numa"), mib.value()});
  }
  for (std::size_t i = 0; j.contains("tier0") && i < j["tier0"].size(); ++i) {
    const auto& t = j["tier0"][i];
    auto mib = size_field_mib(doc, t["capacity"], at("tier0", i) + ".capacity", kMaxStorageSizeMib);
    if (!mib) return fail(std::move(mib).error());
    node.tier0.push_back({t["path"].get<std::string>(), mib.value()});
  }
  if (j.contains("features")) {
    node.features = j["features"].get<std::vector<std::string>>();
    std::sort(node.features.begin(), node.features.end());
  }
  const std::size_t gpus = node.gpus.size();
  auto gpu_links = read_links(doc, "gpu_links", gpus, gpus, true);
  if (!gpu_links) return fail(std::move(gpu_links).error());
  node.gpu_links = std::move(gpu_links).value();
  if (j.contains("nic_links") || !node.nics.empty()) {
    if (!j.contains("nic_links"))
      return fail(doc.error_at("nic_links", "is required when nics are listed"));
    auto nic_links = read_links(doc, "nic_links", node.nics.size(), gpus, false);
    if (!nic_links) return fail(std::move(nic_links).error());
    node.nic_links = std::move(nic_links).value();
  }
  return node;
}

Result<NodeTopology, SpecError> load_node_topology(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return fail(std::move(doc).error());
  return node_topology_from_document(doc.value());
}

nlohmann::json node_topology_to_json(const NodeTopology& node) {
  nlohmann::json j;
  if (!node.name.empty()) j["name"] = node.name;
  j["sockets"] = node.sockets;
  if (node.cpus > 0) j["cpus"] = node.cpus;
  if (node.memory_mib > 0) j["memory"] = format_size_mib(node.memory_mib);
  j["numa_nodes"] = nlohmann::json::array();
  for (const auto& n : node.numa_nodes) {
    nlohmann::json e{{"id", n.id}};
    if (!n.cpus.empty()) e["cpus"] = n.cpus;
    j["numa_nodes"].push_back(e);
  }
  auto put_optional = [](nlohmann::json& e, const char* key, const std::string& v) {
    if (!v.empty()) e[key] = v;
  };
  for (const auto& g : node.gpus) {
    nlohmann::json e{{"index", g.index}};
    put_optional(e, "model", g.model);
    put_optional(e, "uuid", g.uuid);
    if (g.memory_mib > 0) e["memory"] = format_size_mib(g.memory_mib);
    put_optional(e, "pci_bus_id", g.pci_bus_id);
    if (g.numa) e["numa"] = *g.numa;
    put_optional(e, "pcie_switch", g.pcie_switch);
    put_optional(e, "device", g.device);
    j["gpus"].push_back(e);
  }
  j["nics"] = nlohmann::json::array();
  for (const auto& n : node.nics) {
    nlohmann::json e{{"name", n.name}};
    if (n.numa) e["numa"] = *n.numa;
    put_optional(e, "pci_bus_id", n.pci_bus_id);
    if (n.speed_gbps > 0) e["speed_gbps"] = n.speed_gbps;
    put_optional(e, "pcie_switch", n.pcie_switch);
    j["nics"].push_back(e);
  }
  j["nvme"] = nlohmann::json::array();
  for (const auto& n : node.nvme) {
    nlohmann::json e{{"name", n.name}, {"capacity", format_size_mib(n.capacity_mib)}};
    if (n.numa) e["numa"] = *n.numa;
    j["nvme"].push_back(e);
  }
  j["tier0"] = nlohmann::json::array();
  for (const auto& t : node.tier0) {
    j["tier0"].push_back({{"path", t.path}, {"capacity", format_size_mib(t.capacity_mib)}});
  }
  if (!node.features.empty()) j["features"] = node.features;
  auto matrix = [&](const std::vector<std::vector<Link>>& m, bool self) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t r = 0; r < m.size(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (std::size_t c = 0; c < m[r].size(); ++c)
        row.push_back(self && r == c ? "X" : m[r][c].name());
      rows.push_back(row);
    }
    return rows;
  };
  j["gpu_links"] = matrix(node.gpu_links, true);
  j["nic_links"] = matrix(node.nic_links, false);
  return j;
}

}  // namespace sy::topo
