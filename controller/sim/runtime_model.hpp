#pragma once
// How placement stretches a job's run time. A trace's duration is the run time at the best
// placement for the job's size; at another placement the communicating share of each step slows
// by the ratio of the best ring bottleneck to the one it got:
//   runtime = duration * (1 + comm_share * (best_gbps / actual_gbps - 1))
// Parameters come from a YAML file (schemas/sim-model.schema.json; examples/sim/runtime-model.yaml
// says where each number comes from).

#include <map>
#include <string>
#include <vector>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "controller/sim/trace.hpp"

namespace sy::sim {

struct ModelClass {
  std::string name;
  std::vector<std::string> match;  // aliases, compared by normalized_model_name
  double comm_share = 0;
  double unknown_weight = 0;
};

// How a job's class was found: by its model's name, or drawn (the trace names no model, or one
// no alias matches).
enum class ClassSource { named, drawn_unnamed, drawn_unmatched };

struct ClassChoice {
  const ModelClass* model_class = nullptr;
  ClassSource source = ClassSource::named;
};

// A model name as traces write it, reduced to what identifies the model: lower case, without a
// parenthesised note ("ResNet-18 (batch size 32)"), keeping only letters and digits, so that
// "ResNet-50", "resnet50" and "resnet_50" are one name.
std::string normalized_model_name(const std::string& name);

// How the trace's model names fared: jobs matched by name, drawn because no model is named, drawn
// because the name matched no alias (with those names and their job counts).
struct ModelCoverage {
  std::size_t named = 0, drawn_unnamed = 0, drawn_unmatched = 0;
  std::map<std::string, std::size_t> unmatched_names;
};

// How far apart a gang's nodes are.
enum class Spread { one_node, same_leaf, same_spine, cross_spine };

class RuntimeModel {
 public:
  static Result<RuntimeModel, SpecError> load(const std::string& path);
  static Result<RuntimeModel, SpecError> parse(const std::string& yaml, const std::string& file);

  // The class whose alias names the job's model: the alias equal to its normalized name, else the
  // longest alias (3 or more characters) it starts with ("bertlarge" -> "bert"); failing that a
  // draw by job id weighted by unknown_weight.
  ClassChoice choose(const TraceJob& job) const;
  const ModelClass& class_of(const TraceJob& job) const { return *choose(job).model_class; }
  ModelCoverage coverage(const std::vector<TraceJob>& trace) const;
  double network_gbps(Spread spread) const;
  // Between the servers of the packed-vs-spread measurements the classes are calibrated on.
  double calibration_spread_gbps() const { return calibration_spread_gbps_; }
  double runtime_s(const ModelClass& c, double duration_s, double best_gbps,
                   double actual_gbps) const;
  const std::vector<ModelClass>& classes() const { return classes_; }

 private:
  static Result<RuntimeModel, SpecError> from_document(const Document& doc);
  double same_leaf_ = 0, same_spine_ = 0, cross_spine_ = 0, calibration_spread_gbps_ = 0;
  const ModelClass& drawn(const std::string& job_id) const;
  std::vector<ModelClass> classes_;
  std::map<std::string, std::size_t> aliases_;  // normalized alias -> index in classes_
  double unknown_total_ = 0;
};

}  // namespace sy::sim
