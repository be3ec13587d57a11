// DataHolding numbers the registered datasets and keeps which node holds what of each; the
// simulator updates one node at a time as copies and evictions change its cache, and the result
// must be what a holding built afresh from the same caches says.
#include <catch2/catch.hpp>

#include "controller/scheduler/data_holding.hpp"

using namespace sy::sched;

TEST_CASE("a data holding numbers datasets by name and knows each node's share",
          "[scheduler][data]") {
  const std::map<std::string, std::int64_t> datasets{{"cifar", 100}, {"imagenet", 1000}};
  std::vector<NodeInput> nodes(4);
  nodes[0].cached = {{"imagenet", 1000}};
  nodes[1].cached = {{"cifar", 40}, {"imagenet", 1200}, {"stale", 5}};  // more than its size
  nodes[2].cached = {{"aaa", 9}, {"cifar", 0}};  // not registered; nothing held
  const DataHolding h(datasets, nodes);

  CHECK(h.id("cifar") == 0);
  CHECK(h.id("imagenet") == 1);
  CHECK(h.id("stale") == -1);
  CHECK(h.size(1) == 1000);
  CHECK(h.holders(0) == std::vector<int>{1});
  CHECK(h.partial(0) == std::vector<int>{1});
  CHECK(h.holders(1) == std::vector<int>{0, 1});
  CHECK(h.partial(1).empty());
  CHECK(h.held(1, 0) == 40);
  CHECK(h.held(1, 1) == 1000);
  CHECK(h.held(2, 0) == 0);
  CHECK(h.held(3, 1) == 0);
}

TEST_CASE("a data holding updated node by node equals one built afresh", "[scheduler][data]") {
  std::map<std::string, std::int64_t> datasets;
  for (int d = 0; d < 12; ++d)
    datasets["ds" + std::to_string(d)] = 100 + d;
  std::vector<NodeInput> nodes(9);
  DataHolding kept(datasets, nodes);
  // A fixed walk of copies, partial copies and evictions over the nodes.
  std::uint64_t x = 88172645463325252ULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int step = 0; step < 400; ++step) {
    const int node = static_cast<int>(next() % nodes.size());
    const std::string name = "ds" + std::to_string(next() % 14);  // ds12, ds13: not registered
    auto& cached = nodes[node].cached;
    switch (next() % 3) {
      case 0:
        cached[name] = 100 + static_cast<std::int64_t>(next() % 20);
        break;
      case 1:
        cached[name] = static_cast<std::int64_t>(next() % 50);
        break;
      default:
        cached.erase(name);
        break;
    }
    kept.update_node(node, cached);
    if (step % 50 == 49) REQUIRE(kept == DataHolding(datasets, nodes));
  }
  CHECK(kept == DataHolding(datasets, nodes));
  // It was not empty all along.
  int held = 0;
  for (int d = 0; d < 12; ++d)
    held += static_cast<int>(kept.holders(d).size());
  CHECK(held > 20);
}
