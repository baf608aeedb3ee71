// Pareto frontier of throughput against latency (the planner's candidates, a sweep's points).
#include "moesim/plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

namespace moesim {

std::vector<bool> pareto_frontier(const std::vector<double>& latency, const std::vector<double>& throughput) {
  const size_t n = latency.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return latency[a] < latency[b]; });
  // Walk groups of equal latency in increasing order. A point survives when it has its group's highest
  // throughput and beats every point of strictly lower latency (equal to one of those: dominated).
  std::vector<bool> on(n, false);
  double best_before = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double group_max = -std::numeric_limits<double>::infinity();
    for (; j < n && latency[idx[j]] == latency[idx[i]]; ++j) group_max = std::max(group_max, throughput[idx[j]]);
    for (size_t k = i; k < j; ++k) on[idx[k]] = throughput[idx[k]] == group_max && throughput[idx[k]] > best_before;
    best_before = std::max(best_before, group_max);
    i = j;
  }
  return on;
}

std::vector<bool> pareto_frontier_by_group(const std::vector<std::string>& group, const std::vector<bool>& include,
                                           const std::vector<double>& latency, const std::vector<double>& throughput) {
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < group.size(); ++i)
    if (include[i]) members[group[i]].push_back(i);
  std::vector<bool> on(group.size(), false);
  for (const auto& [g, idx] : members) {
    std::vector<double> lat, thr;
    for (size_t i : idx) lat.push_back(latency[i]), thr.push_back(throughput[i]);
    const std::vector<bool> front = pareto_frontier(lat, thr);
    for (size_t k = 0; k < idx.size(); ++k) on[idx[k]] = front[k];
  }
  return on;
}

void mark_pareto_frontier(std::vector<ParetoPoint>& points) {
  std::vector<std::string> hw;
  std::vector<double> lat, thr;
  for (const ParetoPoint& p : points) hw.push_back(p.hardware), lat.push_back(p.latency_s), thr.push_back(p.tokens_per_s_per_device);
  const std::vector<bool> on = pareto_frontier_by_group(hw, std::vector<bool>(points.size(), true), lat, thr);
  for (size_t i = 0; i < points.size(); ++i) points[i].on_frontier = on[i];
}

}  // namespace moesim
