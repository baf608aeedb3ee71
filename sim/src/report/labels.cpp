#include "report/labels.hpp"

#include <array>

namespace moesim {

const MetricLabel& metric_label(Metric m) {
  static const std::array<MetricLabel, kNumMetrics> labels = {{
      {"device load max/mean", false, true},
      {"device load min/mean", false, false},
      {"device load CV", false, true},
      {"imbalance score (IS)", false, true},
      {"batches with IS > 0", true, true},
      {"expert load max/mean", false, true},
      {"drop rate", true, true},
      {"experts active per device", false, true},
      {"experts active, busiest device", false, true},
      {"destination devices per token", false, true},
      {"destination nodes per token", false, true},
  }};
  return labels[static_cast<int>(m)];
}

std::vector<SetupRef> flatten(const std::vector<ScenarioResult>& results) {
  std::vector<SetupRef> out;
  for (const auto& sc : results)
    for (const auto& st : sc.setups)
      out.push_back({&sc, &st, results.size() > 1 ? sc.scenario.name + "/" + st.spec.name : st.spec.name});
  return out;
}

double safe_ratio(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

}  // namespace moesim
