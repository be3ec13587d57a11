#include "common/metrics_text.hpp"

#include <cmath>
#include <cstdio>

namespace sy::metrics {
namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return std::to_string(static_cast<std::int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Label values escape backslash, double quote and line feed; help text backslash and line feed.
std::string escaped(std::string_view s, bool quote) {
  std::string out;
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += (i ? "," : "") + labels[i].first + "=\"" + escaped(labels[i].second, true) + "\"";
  }
  return out + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const std::scoped_lock lock(mutex_);
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  const std::scoped_lock lock(mutex_);
  Snapshot s{bounds_, {}, sum_, count_};
  std::uint64_t running = 0;
  for (const auto c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  return s;
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP " + std::string(name) + " " + escaped(help, false) + "\n";
  out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
}

void MetricsText::sample(std::string_view name, const Labels& labels, double value) {
  out_ += std::string(name) + label_text(labels) + " " + number(value) + "\n";
}

void MetricsText::histogram(std::string_view name, std::string_view help,
                            const Histogram::Snapshot& h) {
  family(name, "histogram", help);
  const std::string base(name);
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    const double le = i < h.bounds.size() ? h.bounds[i] : INFINITY;
    sample(base + "_bucket", {{"le", number(le)}}, static_cast<double>(h.cumulative[i]));
  }
  sample(base + "_sum", {}, h.sum);
  sample(base + "_count", {}, static_cast<double>(h.count));
}

}  // namespace sy::metrics
