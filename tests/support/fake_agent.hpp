#pragma once
// Test helpers for integration tests on a fake cluster: an sy-agent presenting a DGX-1 fixture
// topology (8 GPUs) to a controller over plain TCP, its Tier-0 and spool under `dir` and its log
// beside the controller's (NODE.log); and counting a text's occurrences in output.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/controller_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace sy::test {

inline std::unique_ptr<ChildProcess> start_fake_agent(const ControllerFixture& controller,
                                                      const TempDir& dir, const std::string& node,
                                                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{
      agent_binary(), "--insecure",
      "--controller", controller.address(),
      "--node-name",  node,
      "--tier0",      dir.file("tier0-" + node),
      "--spool",      dir.file("spool-" + node),
      "--topology",   source_dir() + "/examples/topologies/dgx1-v100.yaml"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<ChildProcess>(argv, controller.dir().file(node + ".log"));
}

inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

}  // namespace sy::test
