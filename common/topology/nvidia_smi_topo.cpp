#include "common/topology/nvidia_smi_topo.hpp"

#include <cctype>
#include <map>
#include <regex>
#include <vector>

namespace sy::topo {
namespace {

struct Token {
  std::string text;
  int column;  // 1-based
};

std::vector<Token> split(const std::string& line) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i > start) out.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

enum class Extra { cpu_affinity, numa_affinity, gpu_numa_id };

struct Header {
  std::vector<std::string> devices;  // GPU0.., NIC0.. or NIC names, in column order
  std::vector<Extra> extras;         // affinity columns after the devices, in order
};

// Multi-word column names are folded back together: "CPU Affinity", "NUMA Affinity", "GPU NUMA ID".
Header read_header(const std::vector<Token>& tokens) {
  Header h;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i].text;
    auto next_is = [&](std::size_t k, const char* word) {
      return i + k < tokens.size() && tokens[i + k].text == word;
    };
    if (t == "CPU" && next_is(1, "Affinity")) {
      h.extras.push_back(Extra::cpu_affinity), ++i;
    } else if (t == "NUMA" && next_is(1, "Affinity")) {
      h.extras.push_back(Extra::numa_affinity), ++i;
    } else if (t == "GPU" && next_is(1, "NUMA") && next_is(2, "ID")) {
      h.extras.push_back(Extra::gpu_numa_id), i += 2;
    } else if (h.extras.empty()) {
      h.devices.push_back(t);
    }
  }
  return h;
}

bool is_gpu_name(const std::string& s) {
  static const std::regex gpu("GPU[0-9]+");
  return std::regex_match(s, gpu);
}

std::optional<int> as_int(const std::string& s) {
  if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
  return std::stoi(s);
}

}  // namespace

Result<NodeTopology, SpecError> parse_nvidia_smi_topo(std::string_view text_in,
                                                      const std::string& file) {
  std::vector<std::string> lines;
  {
    std::string text(text_in), line;
    for (char c : text) {
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) lines.push_back(line);
  }
  auto error = [&](std::size_t line, int column, std::string message) {
    return SpecError{file, static_cast<int>(line) + 1, column, "", std::move(message)};
  };

  std::size_t header_line = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto tokens = split(lines[i]);
    if (!tokens.empty() && tokens[0].text == "GPU0") {
      header_line = i;
      break;
    }
  }
  if (header_line == lines.size()) {
    return fail(
        error(0, 1, "no header line starting with GPU0: is this `nvidia-smi topo -m` output?"));
  }
  const Header header = read_header(split(lines[header_line]));
  const std::size_t d = header.devices.size();
  std::map<std::string, std::size_t> column_of;
  std::vector<int> gpu_columns, nic_columns;
  for (std::size_t c = 0; c < d; ++c) {
    if (!column_of.emplace(header.devices[c], c).second) {
      return fail(error(header_line, 1, "column " + header.devices[c] + " appears twice"));
    }
    (is_gpu_name(header.devices[c]) ? gpu_columns : nic_columns).push_back(static_cast<int>(c));
  }
  for (std::size_t g = 0; g < gpu_columns.size(); ++g) {
    if (header.devices[gpu_columns[g]] != "GPU" + std::to_string(g)) {
      return fail(error(
          header_line, 1,
          "GPU columns must run GPU0..GPU" + std::to_string(gpu_columns.size() - 1) + " in order"));
    }
  }

  // Device rows: the matrix in full, plus the affinity cells of GPU rows.
  std::vector<std::vector<std::optional<Link>>> matrix(d, std::vector<std::optional<Link>>(d));
  std::vector<std::vector<std::string>> extras(d);
  std::vector<bool> seen(d, false);
  std::size_t line = header_line + 1;
  for (; line < lines.size(); ++line) {
    auto tokens = split(lines[line]);
    if (tokens.empty() || tokens[0].text == "Legend:") break;
    auto row = column_of.find(tokens[0].text);
    if (row == column_of.end()) {
      return fail(error(line, tokens[0].column,
                        "row '" + tokens[0].text + "' is not a column of the header"));
    }
    const std::size_t r = row->second;
    if (seen[r])
      return fail(error(line, tokens[0].column, "row " + tokens[0].text + " appears twice"));
    seen[r] = true;
    if (tokens.size() < d + 1) {
      return fail(error(line, tokens.back().column,
                        "row " + tokens[0].text + " has " + std::to_string(tokens.size() - 1) +
                            " link cells, expected " + std::to_string(d)));
    }
    for (std::size_t c = 0; c < d; ++c) {
      const Token& cell = tokens[c + 1];
      if (c == r) {
        if (cell.text != "X")
          return fail(
              error(line, cell.column, "expected X on the diagonal, found '" + cell.text + "'"));
        continue;
      }
      auto link = parse_link(cell.text);
      if (!link) return fail(error(line, cell.column, link.error()));
      matrix[r][c] = link.value();
    }
    for (std::size_t k = d + 1; k < tokens.size(); ++k)
      extras[r].push_back(tokens[k].text);
  }
  for (int c : gpu_columns) {
    if (!seen[c]) return fail(error(header_line, 1, "no row for " + header.devices[c]));
  }

  // NIC Legend: "NIC0: mlx5_2".
  std::map<std::string, std::string> nic_names;
  static const std::regex legend(R"(\s*(NIC[0-9]+):\s*(\S+)\s*)");
  for (; line < lines.size(); ++line) {
    std::smatch m;
    if (std::regex_match(lines[line], m, legend)) nic_names[m[1]] = m[2];
  }

  NodeTopology node;
  const std::size_t gpus = gpu_columns.size();
  node.gpu_links.assign(gpus, std::vector<Link>(gpus));
  // Each GPU row's CPU list and NUMA node. Where the NUMA node is not printed (old outputs have
  // no column; single-socket and some virtual machines print N/A) it is derived from the CPU
  // list: GPUs with the same list share a NUMA node, GPUs on different lists do not, and an
  // N/A row whose list matches a numbered row's joins that row's node.
  std::vector<std::string> row_cpus(gpus);
  std::vector<std::optional<int>> row_numa(gpus);
  std::map<std::string, int> numa_by_cpus;
  int next_numa = 0;
  for (std::size_t g = 0; g < gpus; ++g) {
    const int r = gpu_columns[g];
    for (std::size_t k = 0; k < header.extras.size() && k < extras[r].size(); ++k) {
      if (header.extras[k] == Extra::cpu_affinity && extras[r][k] != "N/A")
        row_cpus[g] = extras[r][k];
      if (header.extras[k] == Extra::numa_affinity) row_numa[g] = as_int(extras[r][k]);
    }
    if (row_numa[g]) {
      next_numa = std::max(next_numa, *row_numa[g] + 1);
      if (!row_cpus[g].empty()) numa_by_cpus.emplace(row_cpus[g], *row_numa[g]);
    }
  }
  for (std::size_t g = 0; g < gpus; ++g) {
    if (row_numa[g] || row_cpus[g].empty()) continue;
    row_numa[g] = numa_by_cpus.emplace(row_cpus[g], next_numa).first->second;
    if (*row_numa[g] == next_numa) ++next_numa;
  }
  std::map<int, std::string> cpus_of_numa;
  for (std::size_t g = 0; g < gpus; ++g) {
    const int r = gpu_columns[g];
    for (std::size_t h = 0; h < gpus; ++h) {
      if (g == h) continue;
      const auto& link = matrix[r][gpu_columns[h]];
      const auto& back = matrix[gpu_columns[h]][r];
      if (!(*link == *back)) {
        return fail(error(header_line, 1,
                          "GPU" + std::to_string(g) + "-GPU" + std::to_string(h) + " is " +
                              link->name() + " one way and " + back->name() + " the other"));
      }
      node.gpu_links[g][h] = *link;
    }
    Gpu gpu;
    gpu.index = static_cast<int>(g);
    if (row_numa[g] && !row_cpus[g].empty()) cpus_of_numa.emplace(*row_numa[g], row_cpus[g]);
    if (row_numa[g]) cpus_of_numa.emplace(*row_numa[g], "");
    gpu.numa = row_numa[g];
    node.gpus.push_back(gpu);
  }
  for (const auto& [id, cpus] : cpus_of_numa)
    node.numa_nodes.push_back({id, cpus});
  node.sockets = std::max<int>(1, static_cast<int>(node.numa_nodes.size()));

  node.nic_links.assign(nic_columns.size(), std::vector<Link>(gpus));
  for (std::size_t n = 0; n < nic_columns.size(); ++n) {
    const int c = nic_columns[n];
    Nic nic;
    const std::string& column = header.devices[c];
    nic.name = nic_names.count(column) ? nic_names[column] : column;
    for (std::size_t g = 0; g < gpus; ++g) {
      // The NIC's own row when printed; the GPU row's NIC column otherwise.
      const auto& link = seen[c] ? matrix[c][gpu_columns[g]] : matrix[gpu_columns[g]][c];
      node.nic_links[n][g] = *link;
      if (!nic.numa && link->kind != LinkKind::sys) nic.numa = node.gpus[g].numa;
    }
    node.nics.push_back(nic);
  }
  return node;
}

}  // namespace sy::topo
