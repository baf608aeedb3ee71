// metrics/metrics.cpp: load-balance figures from a BatchLoad, their names, and their aggregation.
#include "moesim/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim {

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::device_max_over_mean: return "device_max_over_mean";
    case Metric::device_min_over_mean: return "device_min_over_mean";
    case Metric::device_cv: return "device_cv";
    case Metric::imbalance_score: return "imbalance_score";
    case Metric::imbalanced_batch: return "imbalanced_batch";
    case Metric::expert_max_over_mean: return "expert_max_over_mean";
    case Metric::drop_rate: return "drop_rate";
    case Metric::distinct_experts_mean: return "distinct_experts_mean";
    case Metric::distinct_experts_max: return "distinct_experts_max";
    case Metric::dest_devices_per_token: return "dest_devices_per_token";
    case Metric::dest_nodes_per_token: return "dest_nodes_per_token";
    case Metric::count: break;
  }
  return "?";
}

namespace {

// num / den, with 0 when den is 0 (an empty batch has no imbalance, never NaN).
double ratio(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

struct Moments {
  double mean = 0, max = 0, min = 0, std = 0;  // population std
};

template <class T>
Moments moments(const std::vector<T>& v) {
  Moments m;
  if (v.empty()) return m;
  const double n = static_cast<double>(v.size());
  double sum = 0;
  for (T x : v) sum += static_cast<double>(x);
  m.mean = sum / n;
  m.max = static_cast<double>(*std::max_element(v.begin(), v.end()));
  m.min = static_cast<double>(*std::min_element(v.begin(), v.end()));
  double sq = 0;
  for (T x : v) sq += (static_cast<double>(x) - m.mean) * (static_cast<double>(x) - m.mean);
  m.std = std::sqrt(sq / n);
  return m;
}

}  // namespace

MetricValues batch_metrics(const BatchLoad& load) {
  MetricValues out{};
  auto set = [&](Metric m, double v) { out[static_cast<size_t>(m)] = v; };
  const Moments dev = moments(load.device_assignments);
  const Moments experts = moments(load.expert_tokens);
  const Moments distinct = moments(load.distinct_experts);
  const double tokens = static_cast<double>(load.tokens);
  set(Metric::device_max_over_mean, ratio(dev.max, dev.mean));
  set(Metric::device_min_over_mean, ratio(dev.min, dev.mean));
  set(Metric::device_cv, ratio(dev.std, dev.mean));
  set(Metric::imbalance_score, ratio(dev.max - dev.min, tokens));
  set(Metric::imbalanced_batch, dev.max > dev.min ? 1.0 : 0.0);
  set(Metric::expert_max_over_mean, ratio(experts.max, experts.mean));
  set(Metric::drop_rate, ratio(static_cast<double>(load.dropped), static_cast<double>(load.requested)));
  set(Metric::distinct_experts_mean, distinct.mean);
  set(Metric::distinct_experts_max, distinct.max);
  set(Metric::dest_devices_per_token, ratio(static_cast<double>(load.token_dest_devices), tokens));
  set(Metric::dest_nodes_per_token, ratio(static_cast<double>(load.token_dest_nodes), tokens));
  return out;
}

namespace {
// q-quantile of sorted values, numpy "linear": position q * (n - 1), interpolate the neighbours.
double quantile_sorted(const std::vector<double>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + frac * (v[hi] - v[lo]);
}
}  // namespace

Distribution summarize(std::vector<double> values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  d.p50 = quantile_sorted(values, 0.50);
  d.p99 = quantile_sorted(values, 0.99);
  d.max = values.back();
  return d;
}

}  // namespace moesim
