// Prometheus text exposition: families, escaped label values and a cumulative histogram.
#include <catch2/catch.hpp>

#include "common/metrics_text.hpp"

using namespace sy::metrics;

TEST_CASE("metrics text writes families samples and escaped labels", "[metrics]") {
  MetricsText m;
  m.family("sy_x", "gauge", "Line one\nand a \\ backslash.");
  m.sample("sy_x", {{"node", "n\"1\\\n"}, {"leaf", "l1"}}, 2.5);
  m.sample("sy_x", {}, 3);
  CHECK(m.text() ==
        "# HELP sy_x Line one\\nand a \\\\ backslash.\n"
        "# TYPE sy_x gauge\n"
        "sy_x{node=\"n\\\"1\\\\\\n\",leaf=\"l1\"} 2.5\n"
        "sy_x 3\n");
}

TEST_CASE("histograms are cumulative with a +Inf bucket", "[metrics]") {
  Histogram h({0.1, 1});
  for (const double v : {0.05, 0.1, 0.5, 7.0})
    h.observe(v);
  MetricsText m;
  m.histogram("sy_h", "Durations.", h.snapshot());
  CHECK(m.text() ==
        "# HELP sy_h Durations.\n"
        "# TYPE sy_h histogram\n"
        "sy_h_bucket{le=\"0.1\"} 2\n"
        "sy_h_bucket{le=\"1\"} 3\n"
        "sy_h_bucket{le=\"+Inf\"} 4\n"
        "sy_h_sum 7.65\n"
        "sy_h_count 4\n");
}
