#pragma once
// How placement stretches a job's run time. A trace's duration is the run time at the best
// placement for the job's size; at another placement the communicating share of each step slows
// by the ratio of the best ring bottleneck to the one it got:
//   runtime = duration * (1 + comm_share * (best_gbps / actual_gbps - 1))
// Parameters come from a YAML file (schemas/sim-model.schema.json; examples/sim/runtime-model.yaml
// says where each number comes from).

#include <string>
#include <vector>

#include "common/document.hpp"
#include "common/result.hpp"
#include "common/spec_error.hpp"
#include "controller/sim/trace.hpp"

namespace sy::sim {

struct ModelClass {
  std::string name;
  std::vector<std::string> match;
  double comm_share = 0;
  double unknown_weight = 0;
};

// How far apart a gang's nodes are.
enum class Spread { one_node, same_leaf, same_spine, cross_spine };

class RuntimeModel {
 public:
  static Result<RuntimeModel, SpecError> load(const std::string& path);
  static Result<RuntimeModel, SpecError> parse(const std::string& yaml, const std::string& file);

  // The class named by the job's model, else a draw by job id weighted by unknown_weight.
  const ModelClass& class_of(const TraceJob& job) const;
  double network_gbps(Spread spread) const;
  // Between the servers of the packed-vs-spread measurements the classes are calibrated on.
  double calibration_spread_gbps() const { return calibration_spread_gbps_; }
  double runtime_s(const ModelClass& c, double duration_s, double best_gbps,
                   double actual_gbps) const;
  const std::vector<ModelClass>& classes() const { return classes_; }

 private:
  static Result<RuntimeModel, SpecError> from_document(const Document& doc);
  double same_leaf_ = 0, same_spine_ = 0, cross_spine_ = 0, calibration_spread_gbps_ = 0;
  std::vector<ModelClass> classes_;
  double unknown_total_ = 0;
};

}  // namespace sy::sim
