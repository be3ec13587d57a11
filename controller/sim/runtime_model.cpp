#include "controller/sim/runtime_model.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/document.hpp"
#include "common/schema_validator.hpp"
#include "common/topology/node_topology.hpp"

namespace sy::sim {

Result<RuntimeModel, SpecError> RuntimeModel::parse(const std::string& yaml,
                                                    const std::string& file) {
  auto doc = parse_yaml_document(yaml, file);
  if (!doc) return fail(std::move(doc).error());
  return from_document(doc.value());
}

Result<RuntimeModel, SpecError> RuntimeModel::load(const std::string& path) {
  auto doc = load_yaml_file(path);
  if (!doc) return fail(std::move(doc).error());
  return from_document(doc.value());
}

Result<RuntimeModel, SpecError> RuntimeModel::from_document(const Document& doc) {
  static const auto schema = SchemaValidator::builtin("sim-model.schema.json");
  if (auto valid = schema->validate(doc); !valid) return fail(std::move(valid).error());
  const auto& j = doc.root();
  RuntimeModel m;
  m.same_leaf_ = j["network_gbps"]["same_leaf"].get<double>();
  m.same_spine_ = j["network_gbps"]["same_spine"].get<double>();
  m.cross_spine_ = j["network_gbps"]["cross_spine"].get<double>();
  m.calibration_spread_gbps_ = j["calibration"]["spread_gbps"].get<double>();
  for (std::size_t i = 0; i < j["classes"].size(); ++i) {
    const auto& c = j["classes"][i];
    ModelClass mc{c["name"].get<std::string>(), c.value("match", std::vector<std::string>{}),
                  c["comm_share"].get<double>(), c.value("unknown_weight", 0.0)};
    for (std::size_t k = 0; k < mc.match.size(); ++k) {
      const std::string alias = normalized_model_name(mc.match[k]);
      const std::string at = "classes[" + std::to_string(i) + "].match[" + std::to_string(k) + "]";
      if (alias.empty()) return fail(doc.error_at(at, "has no letter or digit to match by"));
      const auto [it, added] = m.aliases_.emplace(alias, i);
      if (!added && it->second != i) {
        return fail(doc.error_at(at, "'" + mc.match[k] + "' is also an alias of class '" +
                                         m.classes_[it->second].name + "'"));
      }
    }
    m.unknown_total_ += mc.unknown_weight;
    m.classes_.push_back(std::move(mc));
  }
  if (m.unknown_total_ <= 0) {
    return fail(doc.error_at("classes",
                             "give at least one class an unknown_weight above 0, "
                             "for jobs whose model the trace does not name"));
  }
  return m;
}

std::string normalized_model_name(const std::string& name) {
  std::string out;
  for (const char ch : name.substr(0, name.find('('))) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

ClassChoice RuntimeModel::choose(const TraceJob& job) const {
  const std::string name = normalized_model_name(job.model);
  if (name.empty()) {
    return {&drawn(job.id),
            job.model.empty() ? ClassSource::drawn_unnamed : ClassSource::drawn_unmatched};
  }
  if (const auto it = aliases_.find(name); it != aliases_.end()) {
    return {&classes_[it->second], ClassSource::named};
  }
  // The longest alias the name starts with: "resnet152" is a ResNet, "bertlarge" a BERT. Aliases
  // of one or two characters ("lm") would claim too much this way; they match only whole.
  const std::pair<const std::string, std::size_t>* best = nullptr;
  for (const auto& entry : aliases_) {
    if (entry.first.size() >= 3 && name.starts_with(entry.first) &&
        (!best || entry.first.size() > best->first.size())) {
      best = &entry;
    }
  }
  if (best) return {&classes_[best->second], ClassSource::named};
  return {&drawn(job.id), ClassSource::drawn_unmatched};
}

const ModelClass& RuntimeModel::drawn(const std::string& job_id) const {
  // FNV-1a of the id: the same job always lands in the same class, whatever else is in the trace.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : job_id)
    h = (h ^ ch) * 1099511628211ULL;
  double pick = static_cast<double>(h % 1000000) / 1000000.0 * unknown_total_;
  for (const auto& c : classes_) {
    if (pick < c.unknown_weight) return c;
    pick -= c.unknown_weight;
  }
  return classes_.back();
}

ModelCoverage RuntimeModel::coverage(const std::vector<TraceJob>& trace) const {
  ModelCoverage out;
  for (const auto& job : trace) {
    switch (choose(job).source) {
      case ClassSource::named:
        ++out.named;
        break;
      case ClassSource::drawn_unnamed:
        ++out.drawn_unnamed;
        break;
      case ClassSource::drawn_unmatched:
        ++out.drawn_unmatched;
        ++out.unmatched_names[job.model];
        break;
    }
  }
  return out;
}

double RuntimeModel::network_gbps(Spread spread) const {
  switch (spread) {
    case Spread::one_node:
      return topo::kUnlimitedGbps;
    case Spread::same_leaf:
      return same_leaf_;
    case Spread::same_spine:
      return same_spine_;
    case Spread::cross_spine:
      return cross_spine_;
  }
  return cross_spine_;
}

double RuntimeModel::runtime_s(const ModelClass& c, double duration_s, double best_gbps,
                               double actual_gbps) const {
  if (!std::isfinite(best_gbps) || !std::isfinite(actual_gbps) || actual_gbps >= best_gbps) {
    return duration_s;  // one GPU, or as good as the best
  }
  return duration_s * (1 + c.comm_share * (best_gbps / actual_gbps - 1));
}

}  // namespace sy::sim
