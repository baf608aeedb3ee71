// Human labels for metrics and setups, shared by the reporters.
#pragma once

#include "moesim/metrics.hpp"
#include "moesim/simulator.hpp"

#include <string>
#include <vector>

namespace moesim {

struct MetricLabel {
  const char* label;  // for people
  bool percent;       // shown as a percentage in the table
  bool lower_is_better;
};
const MetricLabel& metric_label(Metric m);

// A flat view of every setup of every scenario, in order; the first is the baseline for ratios.
struct SetupRef {
  const ScenarioResult* scenario;
  const SetupResult* setup;
  std::string label;  // "setup", or "scenario/setup" when several scenarios are compared
};
std::vector<SetupRef> flatten(const std::vector<ScenarioResult>& results);

// a / b, or 0 when b is 0 (a ratio against an all-zero baseline says nothing).
double safe_ratio(double a, double b);

}  // namespace moesim
