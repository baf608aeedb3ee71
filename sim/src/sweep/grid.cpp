#include "moesim/error.hpp"
#include "moesim/sweep.hpp"
#include "report/throughput_report.hpp"

namespace moesim {

GridAxis parse_grid_axis(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--grid", "", text, "expected key.path=value1,value2,...");
  GridAxis a{text.substr(0, eq), {}};
  std::string cur;
  int depth = 0;
  for (char c : text.substr(eq + 1)) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      a.values.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  a.values.push_back(cur);
  for (const auto& v : a.values)
    if (v.empty()) throw Error("--grid", a.key, text, "empty value in the list");
  return a;
}

std::vector<std::vector<std::string>> grid_points(const std::vector<GridAxis>& axes) {
  std::vector<std::vector<std::string>> points{{}};
  for (const auto& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& p : points)
      for (const auto& v : axis.values) {
        auto q = p;
        q.push_back(axis.key + "=" + v);
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
