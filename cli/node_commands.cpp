// sy nodes, sy node show, sy drain, sy resume.
#include <iostream>
#include <sstream>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/table.hpp"
#include "common/topology/topology_file.hpp"
#include "common/units.hpp"

namespace sy::cli {
namespace {

std::string text_or_dash(const nlohmann::json& v) {
  return v.is_string() && !v.get<std::string>().empty() ? v.get<std::string>() : "-";
}

// The matrix as `nvidia-smi topo -m` draws it, NIC names in a legend underneath.
void print_matrix(std::ostream& out, const topo::NodeTopology& t) {
  std::vector<std::string> header{""};
  for (const auto& g : t.gpus)
    header.push_back("GPU" + std::to_string(g.index));
  for (std::size_t n = 0; n < t.nics.size(); ++n)
    header.push_back("NIC" + std::to_string(n));
  header.push_back("NUMA");
  Table table(header);
  for (const auto& g : t.gpus) {
    std::vector<std::string> row{"GPU" + std::to_string(g.index)};
    for (const auto& o : t.gpus)
      row.push_back(g.index == o.index ? "X" : t.link(g.index, o.index).name());
    for (std::size_t n = 0; n < t.nics.size(); ++n)
      row.push_back(t.nic_links[n][g.index].name());
    row.push_back(g.numa ? std::to_string(*g.numa) : "-");
    table.add_row(row);
  }
  for (std::size_t n = 0; n < t.nics.size(); ++n) {
    std::vector<std::string> row{"NIC" + std::to_string(n)};
    for (const auto& g : t.gpus)
      row.push_back(t.nic_links[n][g.index].name());
    for (std::size_t m = 0; m < t.nics.size(); ++m)
      row.push_back(m == n ? "X" : "-");
    row.push_back(t.nics[n].numa ? std::to_string(*t.nics[n].numa) : "-");
    table.add_row(row);
  }
  table.print(out);
  if (!t.nics.empty()) {
    out << "\nNICs:\n";
    for (std::size_t n = 0; n < t.nics.size(); ++n) {
      out << "  NIC" << n << ": " << t.nics[n].name;
      if (t.nics[n].speed_gbps > 0) out << "  " << t.nics[n].speed_gbps << " Gb/s";
      out << "\n";
    }
  }
}

}  // namespace

int cmd_nodes(const ClientConfig& config, bool json) {
  ApiClient api(config, current_user());
  auto nodes = api.list_nodes();
  if (!nodes) return failed(nodes.error());
  if (json) {
    std::cout << nodes->dump(2) << "\n";
    return 0;
  }
  Table table({"NODE", "STATE", "GPUS(FREE/TOTAL)", "LEAF", "SPINE", "LAST_HEARD", "REASON"});
  for (const auto& n : nodes.value()) {
    const std::string heard = n.value("last_heard_time", "");
    table.add_row(
        {n.value("name", ""), n.value("state", ""),
         std::to_string(n.value("gpus_free", 0)) + "/" + std::to_string(n.value("gpus", 0)),
         text_or_dash(n["leaf"]), text_or_dash(n["spine"]),
         heard.size() >= 19 ? heard.substr(11, 8) : "-", text_or_dash(n["reason"])});
  }
  table.print(std::cout);
  return 0;
}

int cmd_node_show(const ClientConfig& config, const NameOptions& o) {
  const NameOptions* arg = &o;
  ApiClient api(config, current_user());
  auto node = api.get_node(arg->name);
  if (!node) return failed(node.error());
  if (arg->json) {
    std::cout << node->dump(2) << "\n";
    return 0;
  }
  auto topology = topo::node_topology_from_document(Document::from_value(node->at("topology")));
  if (!topology)
    return failed("the controller sent an unreadable topology: " + topology.error().to_string());
  const topo::NodeTopology& t = topology.value();
  std::ostringstream out;
  const nlohmann::json& n = node.value();
  out << "Node " << n.value("name", "") << "  State=" << n.value("state", "")
      << "  Reason=" << text_or_dash(n["reason"]) << "  Leaf=" << text_or_dash(n["leaf"])
      << "  Spine=" << text_or_dash(n["spine"]) << "\n"
      << "  GPUs=" << t.gpu_count() << " (" << n.value("gpus_free", 0)
      << " free)  NICs=" << t.nics.size() << "  Sockets=" << t.sockets
      << "  Agent=" << n.value("agent_version", "") << "\n\n";
  print_matrix(out, t);
  out << "\nGPUs:\n";
  for (const auto& g : t.gpus) {
    auto nic = t.nearest_nic(g.index);
    out << "  GPU" << g.index << "  " << (g.model.empty() ? "-" : g.model) << "  "
        << (g.memory_mib ? format_size_mib(g.memory_mib) : "-") << "  NUMA "
        << (g.numa ? std::to_string(*g.numa) : "-") << "  nearest NIC "
        << (nic ? t.nics[*nic].name + " (" + t.nic_links[*nic][g.index].name() + ")" : "-") << "\n";
  }
  if (!t.numa_nodes.empty()) {
    out << "\nNUMA nodes:\n";
    for (const auto& numa : t.numa_nodes)
      out << "  " << numa.id << ": CPUs " << (numa.cpus.empty() ? "-" : numa.cpus) << "\n";
  }
  if (!t.tier0.empty()) {
    out << "\nTier-0 storage:\n";
    for (const auto& tier : t.tier0)
      out << "  " << tier.path << "  " << format_size_mib(tier.capacity_mib) << "\n";
  }
  out << "\nLegend: NV# = # bonded NVLinks, PIX = one PCIe switch, PXB = several PCIe switches,\n"
         "PHB = a PCIe host bridge, NODE = host bridges within a NUMA node, SYS = across sockets\n";
  std::cout << out.str();
  return 0;
}

namespace {
int drain_or_resume(const ClientConfig& config, const DrainOptions& o, bool drain) {
  ApiClient api(config, current_user());
  auto node = api.set_drain(o.node, drain, o.reason);
  if (!node) return failed(node.error());
  std::cout << "Node " << o.node << " is " << node->value("state", "?") << "\n";
  return 0;
}
}  // namespace

int cmd_drain(const ClientConfig& config, const DrainOptions& o) {
  return drain_or_resume(config, o, true);
}
int cmd_resume(const ClientConfig& config, const DrainOptions& o) {
  return drain_or_resume(config, o, false);
}

}  // namespace sy::cli
