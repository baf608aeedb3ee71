// moesim/metrics.hpp: load-balance figures of one batch at one layer, and their aggregation.
#pragma once

#include "moesim/placement.hpp"
#include "moesim/types.hpp"

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace moesim {

// Raw counts of one (step, layer) batch. Token t's home (source) device is
// t * devices / tokens (contiguous blocks: attention data parallelism).
struct BatchLoad {
  int64_t tokens = 0;
  int64_t requested = 0;                    // assignments asked for (tokens * k)
  int64_t dropped = 0;                      // assignments dropped by capacity (or unfilled, expert_choice)
  std::vector<int64_t> expert_tokens;       // [num_logical] kept assignments per logical expert
  std::vector<int64_t> device_assignments;  // [devices] kept assignments per device (T_i in Pangu Eq. 3)
  std::vector<int32_t> distinct_experts;    // [devices] distinct physical experts activated per device
  std::vector<int64_t> slot_tokens;         // [num_physical] kept assignments per physical slot (replicas split
                                            // an expert's tokens as Placement::slot_for deals them)
  std::vector<int64_t> pair_tokens;         // [devices, devices] tokens src -> dst, once per destination device
  std::vector<int64_t> pair_assignments;    // [devices, devices] assignments src -> dst, once per expert copy
  int nodes = 1;                            // devices / devices_per_node, rounded up
  std::vector<int64_t> pair_node_tokens;    // [devices, nodes] tokens src -> node, once per destination node
  int64_t token_dest_devices = 0;           // sum over tokens of distinct destination devices
  int64_t token_dest_nodes = 0;             // sum over tokens of distinct destination nodes
};

BatchLoad measure_load(const Assignments& a, const Placement& p, int devices_per_node);

enum class Metric : int {
  device_max_over_mean,    // max_i T_i / mean_i T_i
  device_min_over_mean,    // min_i T_i / mean_i T_i
  device_cv,               // std_i T_i / mean_i T_i (population std)
  imbalance_score,         // (max_i T_i - min_i T_i) / tokens (Pangu Pro MoE Eq. 3)
  imbalanced_batch,        // 1 if imbalance_score > 0 else 0: its mean is P(IS > 0) (Pangu Fig. 2b)
  expert_max_over_mean,    // max_e tokens_e / mean_e tokens_e
  drop_rate,               // dropped / requested
  distinct_experts_mean,   // mean over devices of distinct experts activated
  distinct_experts_max,    // max over devices
  dest_devices_per_token,  // mean over tokens of distinct destination devices
  dest_nodes_per_token,    // mean over tokens of distinct destination nodes
  count
};
inline constexpr int kNumMetrics = static_cast<int>(Metric::count);
std::string_view metric_name(Metric m);
using MetricValues = std::array<double, kNumMetrics>;

MetricValues batch_metrics(const BatchLoad& load);

struct Distribution {
  double mean = 0, p50 = 0, p99 = 0, max = 0;
};
// Percentiles by linear interpolation between order statistics (numpy's default).
Distribution summarize(std::vector<double> values);

}  // namespace moesim
