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

// One point of throughput per device against latency: a planner candidate or a sweep point.
struct ParetoPoint {
  std::string label;
  std::string hardware;
  int devices = 0;
  double tokens_per_s_per_device = 0;
  double latency_s = 0;      // TPOT at decode, TTFT at prefill
  bool on_frontier = false;
};

// Figures that do not come from one run (a sweep, the planner); each chart is left out, with a note
// saying why, when its series is empty.
struct HtmlExtras {
  std::string title;                            // the page title when there are no run results
  std::vector<std::string> notes;               // paragraphs under the title (plain text)
  std::string table_title;                      // an optional table, e.g. the planner's cheapest setups
  std::vector<std::vector<std::string>> table;  // row 0 is the header
  std::vector<BatchPoint> batch_series;
  std::string batch_caption;                    // where the series comes from
  std::string batch_missing;                    // why it is not drawn ("" = the note for a single run)
  std::vector<ParetoPoint> pareto;
  std::string pareto_caption, pareto_missing;
};

// The whole page: summary table, per-device load, expert-by-layer heatmaps, step-time breakdown (with a
// deployment) and the resolved scenarios of the run results; then throughput against batch size and the
// Pareto frontier when the extras carry them. Without results (a sweep, a plan) the page holds the
// extras alone. Every text from a scenario file is HTML-escaped.
std::string render_html_report(const std::vector<ScenarioResult>& results, const HtmlExtras& extras = {});

}  // namespace moesim
