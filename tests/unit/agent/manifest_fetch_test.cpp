// A stage order that names its manifest: the agent fetches it in slices, as the controller's
// ManifestServer cuts them, and stages only a manifest that is whole and hashes to the version.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "agent/manifest_fetch.hpp"
#include "controller/nodes/manifest_server.hpp"

using namespace sy;

namespace {

dataset::Manifest many_files(int n) {
  dataset::Manifest m;
  m.name = "many";
  for (int i = 0; i < n; ++i) {
    char path[64];
    std::snprintf(path, sizeof path, "shard-%03d/sample-%07d.bin", i / 1000, i);
    m.files.push_back({.path = path,
                       .size = 100 + i,
                       .mtime_ns = 1'700'000'000'000'000'000 + i,
                       .digest = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1)});
  }
  return m;
}

protocol::StageOrder order_of(const dataset::Manifest& m, std::int64_t files) {
  protocol::StageOrder o;
  o.request = "stage-7";
  o.source = "/shared/many";
  o.dataset = m.name;
  o.version = m.version();
  o.manifest_files = files;
  return o;
}

// An agent's fetch against a controller that answers every request with `answer`.
struct Exchange {
  std::vector<nlohmann::json> reports;  // stage_reports the agent sent
  std::optional<protocol::StageOrder> staged;
  int requests = 0;
  std::function<protocol::ManifestChunk(const protocol::ManifestRequest&)> answer;
  std::unique_ptr<agent::ManifestFetch> fetch;

  Exchange() {
    fetch = std::make_unique<agent::ManifestFetch>(
        [this](nlohmann::json m) {
          if (m.value("type", "") == "stage_report") return reports.push_back(m);
          auto r = protocol::read_manifest_request(m);
          REQUIRE(r.ok());
          ++requests;
          // Through the wire format both ways, as over the WebSocket.
          auto chunk =
              protocol::read_manifest_chunk(protocol::manifest_chunk_message(answer(r.value())));
          REQUIRE(chunk.ok());
          fetch->on_chunk(chunk.value());
        },
        [this](protocol::StageOrder o) { staged = std::move(o); });
  }
};

}  // namespace

TEST_CASE("a manifest too large for one message arrives in slices and is staged whole",
          "[staging][manifest]") {
  // 20,000 files: ~1.9 MB of paths, so about three slices of 1 MiB.
  const auto manifest = many_files(20'000);
  Exchange x;
  x.answer = [&](const protocol::ManifestRequest& r) {
    CHECK(r.dataset == "many");
    CHECK(r.version == manifest.version());
    auto c = nodes::ManifestServer::slice(manifest, r.from);
    c.request = r.request;
    return c;
  };
  x.fetch->start(order_of(manifest, 20'000));
  REQUIRE(x.staged);
  CHECK(x.reports.empty());
  CHECK(x.requests >= 2);
  CHECK(x.requests <= 4);
  REQUIRE(x.staged->manifest);
  CHECK(x.staged->manifest->files.size() == 20'000);
  CHECK(x.staged->manifest->version() == manifest.version());
  CHECK(x.staged->request == "stage-7");
  CHECK(x.fetch->pending() == 0);
}

TEST_CASE("a slice never passes its byte budget but always holds one file", "[manifest]") {
  const auto manifest = many_files(1'000);
  std::int64_t from = 0;
  int slices = 0;
  while (from < 1'000) {
    const auto c = nodes::ManifestServer::slice(manifest, from, 10'000);
    REQUIRE_FALSE(c.files.empty());
    CHECK(c.total == 1'000);
    CHECK(c.from == from);
    CHECK(c.files.dump().size() < 12'000);
    CHECK(c.files[0]["path"] == manifest.files[static_cast<std::size_t>(from)].path);
    from += static_cast<std::int64_t>(c.files.size());
    ++slices;
  }
  CHECK(from == 1'000);
  CHECK(slices > 5);
  // A budget smaller than one file still moves on.
  CHECK(nodes::ManifestServer::slice(manifest, 0, 1).files.size() == 1);
  // Past the end: nothing (the agent has all it asked for).
  CHECK(nodes::ManifestServer::slice(manifest, 1'000).files.empty());
}

TEST_CASE("a manifest that does not add up is never staged: the stage fails with why",
          "[staging][manifest]") {
  const auto manifest = many_files(3'000);
  Exchange x;
  auto failure = [&] {
    REQUIRE_FALSE(x.staged);
    REQUIRE(x.reports.size() == 1);
    CHECK(x.reports[0]["state"] == "failed");
    CHECK(x.reports[0]["error_kind"] == "manifest");
    CHECK(x.reports[0]["request"] == "stage-7");
    CHECK(x.fetch->pending() == 0);
    return x.reports[0]["message"].get<std::string>();
  };

  SECTION("the controller cannot serve it") {
    x.answer = [](const protocol::ManifestRequest& r) {
      protocol::ManifestChunk c;
      c.request = r.request;
      c.error = "dataset many has no version 0123456789abcdef";
      return c;
    };
    x.fetch->start(order_of(manifest, 3'000));
    CHECK(failure() == "manifest of many@" + manifest.version() + ": dataset many has no version " +
                           "0123456789abcdef");
  }
  SECTION("the files hash to another version (one file changed on the way)") {
    auto other = manifest;
    other.files[1'234].size += 1;
    x.answer = [&](const protocol::ManifestRequest& r) {
      auto c = nodes::ManifestServer::slice(other, r.from, 50'000);
      c.request = r.request;
      return c;
    };
    x.fetch->start(order_of(manifest, 3'000));
    CHECK(failure() == "manifest of many@" + manifest.version() + " hashes to version " +
                           other.version() + ", not the one ordered");
  }
  SECTION("a slice out of place") {
    x.answer = [&](const protocol::ManifestRequest& r) {
      auto c = nodes::ManifestServer::slice(manifest, r.from + 10, 50'000);
      c.request = r.request;
      return c;
    };
    x.fetch->start(order_of(manifest, 3'000));
    CHECK(failure().find("does not follow the 0 files received (of 3000)") != std::string::npos);
  }
  SECTION("a hostile path in a slice") {
    auto hostile = manifest;
    x.answer = [&](const protocol::ManifestRequest& r) {
      auto c = nodes::ManifestServer::slice(hostile, r.from, 50'000);
      c.request = r.request;
      if (r.from == 0) c.files[5]["path"] = "../../etc/passwd";
      return c;
    };
    x.fetch->start(order_of(manifest, 3'000));
    CHECK(failure().find("files[5].path") != std::string::npos);
  }
  SECTION("a count other than the order's") {
    x.answer = [&](const protocol::ManifestRequest& r) {
      auto c = nodes::ManifestServer::slice(manifest, r.from);
      c.request = r.request;
      return c;
    };
    x.fetch->start(order_of(manifest, 2'999));
    CHECK(failure().find("of 3000 does not follow") != std::string::npos);
  }
}

TEST_CASE("fetches die with their connection, and a late slice is ignored", "[staging][manifest]") {
  const auto manifest = many_files(100);
  Exchange x;
  std::optional<protocol::ManifestRequest> asked;
  x.answer = [&](const protocol::ManifestRequest& r) {
    asked = r;
    protocol::ManifestChunk none;
    none.request = "nobody";  // held back: the test answers later
    none.error = "held";
    return none;
  };
  x.fetch->start(order_of(manifest, 100));
  REQUIRE(asked);
  CHECK(x.fetch->pending() == 1);
  x.fetch->connection_lost();
  CHECK(x.fetch->pending() == 0);
  auto late = nodes::ManifestServer::slice(manifest, 0);
  late.request = "stage-7";
  x.fetch->on_chunk(late);
  CHECK_FALSE(x.staged);
  CHECK(x.reports.empty());
}
