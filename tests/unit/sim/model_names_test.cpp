// Model names as traces write them reach the runtime model's classes by alias, whatever their
// case, separators or batch-size notes; a name no alias matches is counted and reported, never
// silently drawn; and aliases that would put one name in two classes are refused with the field.
#include <catch2/catch.hpp>

#include "controller/sim/report.hpp"
#include "controller/sim/runtime_model.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace sy;

namespace {

sim::RuntimeModel example_model() {
  auto model = sim::RuntimeModel::load(test::source_dir() + "/examples/sim/runtime-model.yaml");
  REQUIRE(model.ok());
  return std::move(model).value();
}

sim::TraceJob job(const std::string& id, const std::string& model) {
  sim::TraceJob j;
  j.id = id;
  j.model = model;
  return j;
}

}  // namespace

TEST_CASE("trace model names reach their class whatever their case, separators or notes",
          "[sim][models]") {
  const auto model = example_model();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ResNet-50 (batch size 64)", "resnet50"},
      {"resnet50", "resnet50"},
      {"resnet-50", "resnet50"},
      {"RESNET_50", "resnet50"},
      {"resnet152", "resnet50"},
      {"ResNet-18 (batch size 32)", "resnet18"},
      {"resnet18", "resnet18"},
      {"vgg16", "lm"},
      {"gpt2", "transformer"},
      {"bert-base", "transformer"},
      {"bert_large", "transformer"},
      {"transformer", "transformer"},
      {"Transformer (batch size 128)", "transformer"},
      {"lstm", "lm"},
      {"LM (batch size 80)", "lm"},
      {"deepspeech2", "lm"},
      {"yolov3", "resnet50"},
      {"Recommendation (batch size 2048)", "recommendation"},
      {"CycleGAN", "cyclegan"},
      {"A3C", "a3c"}};
  // Ids chosen so that a draw would not land every one of them in its expected class.
  int i = 0;
  for (const auto& [name, cls] : expected) {
    const auto choice = model.choose(job("j" + std::to_string(i++), name));
    INFO(name);
    CHECK(choice.source == sim::ClassSource::named);
    CHECK(choice.model_class->name == cls);
  }
}

TEST_CASE("a model no alias matches is drawn, counted by name and warned about", "[sim][models]") {
  const auto model = example_model();
  const std::vector<sim::TraceJob> trace = {
      job("a", "resnet50"), job("b", ""),        job("c", "wavenet"),      job("d", "wavenet"),
      job("e", "lm"),       job("f", "xyz (7)"), job("g", "(only a note)")};
  CHECK(model.choose(trace[1]).source == sim::ClassSource::drawn_unnamed);
  CHECK(model.choose(trace[2]).source == sim::ClassSource::drawn_unmatched);
  // Two letters match only whole: "lm" names the LM class, "lmx" is not an LM.
  CHECK(model.choose(trace[4]).model_class->name == "lm");
  CHECK(model.choose(job("h", "lmx")).source == sim::ClassSource::drawn_unmatched);
  const auto coverage = model.coverage(trace);
  CHECK(coverage.named == 2);
  CHECK(coverage.drawn_unnamed == 1);
  CHECK(coverage.drawn_unmatched == 4);
  const auto j = sim::coverage_json(coverage);
  REQUIRE(j["unmatched"].size() == 3);
  CHECK(j["unmatched"][0]["model"] == "wavenet");  // the most common first
  CHECK(j["unmatched"][0]["jobs"] == 2);
  const std::string warning = sim::coverage_warning(coverage);
  CHECK(warning.find("4 jobs name a model") != std::string::npos);
  CHECK(warning.find("wavenet: 2") != std::string::npos);
  CHECK(sim::coverage_warning(model.coverage({trace[0], trace[1]})).empty());
  // The same job draws the same class every time.
  CHECK(model.choose(trace[2]).model_class == model.choose(trace[2]).model_class);
}

TEST_CASE("an alias given to two classes is refused with its place in the file", "[sim][models]") {
  const std::string yaml =
      "network_gbps: {same_leaf: 12.5, same_spine: 6.25, cross_spine: 3.125}\n"
      "calibration: {spread_gbps: 1.25}\n"
      "classes:\n"
      "  - {name: a, match: [ResNet-50], comm_share: 0.1, unknown_weight: 1}\n"
      "  - {name: b, match: [bert, resnet_50], comm_share: 0.1}\n";
  auto model = sim::RuntimeModel::parse(yaml, "m.yaml");
  REQUIRE_FALSE(model.ok());
  const std::string e = model.error().to_string();
  INFO(e);
  CHECK(e.find("m.yaml:5") != std::string::npos);
  CHECK(e.find("classes[1].match[1]") != std::string::npos);
  CHECK(e.find("also an alias of class 'a'") != std::string::npos);
  auto empty = sim::RuntimeModel::parse(
      "network_gbps: {same_leaf: 1, same_spine: 1, cross_spine: 1}\n"
      "calibration: {spread_gbps: 1}\n"
      "classes: [{name: a, match: ['--'], comm_share: 0.1, unknown_weight: 1}]\n",
      "n.yaml");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().to_string().find("has no letter or digit") != std::string::npos);
}
