// The HTML report's charts, each an inline <svg> with an id and a data-chart attribute naming it.
#pragma once

#include "moesim/html_report.hpp"
#include "report/labels.hpp"

#include <string>
#include <vector>

namespace moesim::html {

// data-chart="device-load": device_assignments_mean as bars, one group per setup, each with its mean.
std::string device_load_chart(const std::vector<SetupRef>& refs);
// data-chart="expert-heatmap": one svg per setup, expert_tokens_mean [layers][experts], shared colour scale.
std::string expert_heatmaps(const std::vector<SetupRef>& refs);
// data-chart="step-breakdown": stacked bars of the step-time parts; "" when no setup has a deployment.
std::string breakdown_chart(const std::vector<SetupRef>& refs);
// data-chart="batch-throughput": tokens/s and p99 step time against batch size; "" when empty.
std::string batch_chart(const std::vector<BatchPoint>& points);
// data-chart="pareto": throughput per device against latency, the frontier joined; "" when empty.
std::string pareto_chart(const std::vector<ParetoPoint>& points);

}  // namespace moesim::html
