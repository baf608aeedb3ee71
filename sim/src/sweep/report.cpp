// The HTML report of a sweep: its rows -> throughput against batch size and the Pareto frontier.
#include "moesim/plan.hpp"
#include "moesim/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace moesim {

namespace {

constexpr const char* kBatchKey = "run.tokens_per_step";

double figure(const SweepRow& r, const std::string& k) {
  const auto it = r.figures.find(k);
  return it == r.figures.end() ? 0.0 : it->second;
}

// "setup, key=value, ..." over the grid keys other than `skip` (the last part of each key path).
std::string series_name(const SweepRow& r, const std::string& skip) {
  std::string name = r.setup;
  for (const auto& [k, v] : r.grid) {
    if (k == skip) continue;
    name += (name.empty() ? "" : ", ") + k.substr(k.rfind('.') + 1) + "=" + v;
  }
  return name.empty() ? "sweep" : name;
}

bool has_throughput(const SweepRow& r) { return r.point >= 0 && r.error.empty() && figure(r, "tokens_per_s") > 0; }

std::vector<BatchPoint> batch_series(const std::vector<SweepRow>& rows) {
  std::vector<BatchPoint> out;
  std::map<std::string, std::set<double>> batches;  // series -> its batch sizes
  for (const auto& r : rows) {
    if (!has_throughput(r)) continue;
    out.push_back({series_name(r, kBatchKey), figure(r, "tokens_per_step"), figure(r, "tokens_per_s"),
                   figure(r, "step_time_p99_s")});
    batches[out.back().setup].insert(out.back().batch);
  }
  // A line needs two batch sizes.
  out.erase(std::remove_if(out.begin(), out.end(), [&](const BatchPoint& p) { return batches[p.setup].size() < 2; }), out.end());
  return out;
}

std::vector<ParetoPoint> pareto_points(const std::vector<SweepRow>& rows, const std::string& hardware) {
  std::vector<ParetoPoint> out;
  for (const auto& r : rows) {
    if (!has_throughput(r)) continue;
    ParetoPoint p;
    p.label = "point " + std::to_string(r.point) + " " + series_name(r, "");
    const auto hw = r.grid.find("cluster.hardware");
    p.hardware = hw != r.grid.end() ? hw->second : hardware;
    const double per_device = figure(r, "tokens_per_s_per_device");
    p.devices = per_device > 0 ? int(std::lround(figure(r, "tokens_per_s") / per_device)) : 0;
    p.tokens_per_s_per_device = per_device;
    p.latency_s = figure(r, "tpot_s") > 0 ? figure(r, "tpot_s") : figure(r, "ttft_s");
    out.push_back(p);
  }
  mark_pareto_frontier(out);
  return out;
}

}  // namespace

HtmlExtras sweep_report_extras(const std::vector<SweepRow>& rows, const std::vector<GridAxis>& grid,
                               const std::string& scenario, const std::string& hardware) {
  HtmlExtras e;
  e.title = "sweep of " + scenario;
  std::string axes;
  bool varies_batch = false;
  for (const auto& a : grid) {
    std::string keys;
    for (const auto& k : a.keys) keys += (keys.empty() ? "" : ", ") + k, varies_batch = varies_batch || k == kBatchKey;
    axes += (axes.empty() ? "" : "; ") + keys + " (" + std::to_string(a.values.size()) + " values)";
  }
  size_t points = 0, failed = 0;
  std::set<long> seen;
  for (const auto& r : rows)
    if (r.point >= 0 && seen.insert(r.point).second) ++points, failed += !r.error.empty();
  e.notes.push_back("Grid: " + axes + ". " + std::to_string(points) + " points, " + std::to_string(failed) +
                    " failed (their errors are in the sweep's output file).");
  const bool any_throughput = std::any_of(rows.begin(), rows.end(), has_throughput);
  if (varies_batch) e.batch_series = batch_series(rows);
  e.batch_caption = "From the sweep's points: one line per setup and combination of the other grid values; batch = "
                    "tokens per step (run.tokens_per_step); the p99 step time is over the run's steps.";
  e.batch_missing = !any_throughput ? "Not drawn: the scenario has no deployment, so the sweep has no throughput figures."
                    : !varies_batch ? "Not drawn: the grid does not vary run.tokens_per_step."
                                    : "Not drawn: no setup has two batch sizes with throughput figures.";
  e.pareto = pareto_points(rows, hardware);
  e.pareto_caption = "Every point and setup of the sweep with throughput figures, coloured by hardware; latency is "
                     "the mean TPOT (decode) or TTFT (prefill) of the run.";
  e.pareto_missing = "Not drawn: the scenario has no deployment, so the sweep has no throughput figures.";
  return e;
}

}  // namespace moesim
