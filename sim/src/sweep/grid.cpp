#include "moesim/error.hpp"
#include "moesim/sweep.hpp"
#include "report/throughput_report.hpp"

#include <algorithm>

namespace moesim {

namespace {

// Splits at commas outside [] and {} (a value may be a YAML flow list or mapping).
std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

GridAxis parse_grid_axis(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--grid", "", text, "expected key.path=value1,value2,...");
  GridAxis a;
  const std::string keys = text.substr(0, eq);
  for (const auto& k : split_top_level(keys)) {
    if (trim(k).empty()) throw Error("--grid", keys, text, "empty key in the list of keys");
    a.keys.push_back(trim(k));
  }
  const std::vector<std::string> values = split_top_level(text.substr(eq + 1));
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    if (v.empty()) throw Error("--grid", keys, text, "empty value in the list");
    if (a.keys.size() == 1) {
      a.values.push_back({v});
      continue;
    }
    // A zipped axis: "[v1, v2, ...]" with one entry per key.
    const std::string t = trim(v);
    const std::string example = "[v1" + std::string(a.keys.size() > 2 ? ",v2,..." : ",v2") + "]";
    if (t.size() < 2 || t.front() != '[' || t.back() != ']')
      throw Error("--grid", keys, text,
                  "a grid over " + std::to_string(a.keys.size()) + " keys takes value tuples " + example + ",... (value " +
                      std::to_string(i + 1) + " is '" + v + "')");
    std::vector<std::string> tuple;
    for (const auto& e : split_top_level(t.substr(1, t.size() - 2))) tuple.push_back(trim(e));
    if (tuple.size() != a.keys.size() || std::any_of(tuple.begin(), tuple.end(), [](const std::string& e) { return e.empty(); }))
      throw Error("--grid", keys, text,
                  "value " + std::to_string(i + 1) + " '" + v + "' has " + std::to_string(tuple.size()) + " entries; each tuple needs " +
                      std::to_string(a.keys.size()) + ", one per key");
    a.values.push_back(std::move(tuple));
  }
  return a;
}

std::vector<std::vector<std::string>> grid_points(const std::vector<GridAxis>& axes) {
  std::vector<std::vector<std::string>> points{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& p : points)
      for (const auto& tuple : axis.values) {
        auto q = p;
        for (size_t k = 0; k < axis.keys.size(); ++k) q.push_back(axis.keys[k] + "=" + tuple[k]);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

std::vector<std::string> flat_columns(bool with_throughput) {
  std::vector<std::string> cols;
  for (int m = 0; m < kNumMetrics; ++m) {
    const std::string n(metric_name(static_cast<Metric>(m)));
    cols.push_back(n + "_mean");
    cols.push_back(n + "_p99");
  }
  if (with_throughput)
    for (const auto& [k, v] : throughput_figures(ThroughputResult{}, Phase::decode))
      if (!phase_alias(k)) cols.push_back(k);
  return cols;
}

std::vector<std::pair<std::string, double>> flat_figures(const ScenarioResult& r, const SetupResult& s) {
  std::vector<std::pair<std::string, double>> out;
  for (int m = 0; m < kNumMetrics; ++m) {
    const std::string n(metric_name(static_cast<Metric>(m)));
    out.push_back({n + "_mean", s.overall[m].mean});
    out.push_back({n + "_p99", s.overall[m].p99});
  }
  if (s.throughput.enabled)
    for (const auto& [k, v] : throughput_figures(s.throughput, r.scenario.deployment.phase))
      if (!phase_alias(k)) out.push_back({k, v});
  return out;
}

}  // namespace moesim
