// moesim/html_report.hpp: one self-contained HTML page (inline SVG charts, no network access) for people.
#pragma once

#include "moesim/simulator.hpp"

#include <string>
#include <vector>

namespace moesim {

// One point of throughput against batch size (a sweep over run.tokens_per_step gives one per setup
// and batch).
struct BatchPoint {
  std::string setup;
  double batch = 0;          // tokens per step
  double tokens_per_s = 0;   // output tokens/s at decode, input tokens/s at prefill
  double step_time_p99 = 0;  // seconds
};

// One candidate of the capacity planner.
struct ParetoPoint {
  std::string label;
  std::string hardware;
  int devices = 0;
  double tokens_per_s_per_device = 0;
  double latency_s = 0;      // TPOT at decode, TTFT at prefill
  bool on_frontier = false;
};

// Figures that do not come from one run; each chart is left out (with a note) when its series is empty.
struct HtmlExtras {
  std::vector<BatchPoint> batch_series;
  std::vector<ParetoPoint> pareto;
};

// The whole page: summary table, per-device load, expert-by-layer heatmaps, step-time breakdown (with a
// deployment), throughput against batch size and the Pareto frontier (when given), and the resolved
// scenarios. Every text from a scenario file is HTML-escaped.
std::string render_html_report(const std::vector<ScenarioResult>& results, const HtmlExtras& extras = {});

}  // namespace moesim
