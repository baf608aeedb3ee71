// Unit tests of measure_load, batch_metrics and summarize on batches small enough to count by hand.
#include "moesim/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

namespace moesim {
namespace {

double value(const MetricValues& v, Metric m) { return v[static_cast<size_t>(m)]; }

// 4 experts on 2 devices: experts 0, 1 on device 0; experts 2, 3 on device 1.
Placement two_devices() { return Placement::from_physical(4, 2, {0, 1, 2, 3}, {0, 0, 1, 1}); }

// 4 tokens, k = 2: t0 {0,1}, t1 {0,2}, t2 {1,3}, t3 {0,1}.
Assignments four_tokens() {
  Assignments a;
  a.resize(4, 2);
  a.expert = {0, 1, 0, 2, 1, 3, 0, 1};
  a.weight.assign(8, 0.5f);
  a.requested = 8;
  return a;
}

// Home devices: t * 2 / 4 = 0, 0, 1, 1.
// Device 0 gets t0: 2, t1: 1, t2: 1, t3: 2 = 6; device 1 gets t1: 1, t2: 1 = 2. Mean 4.
//   max/mean = 1.5, min/mean = 0.5, population std = sqrt(((6-4)^2 + (2-4)^2) / 2) = 2, CV = 0.5,
//   IS = (6 - 2) / 4 tokens = 1.0.
// Experts: e0 = t0,t1,t3 = 3, e1 = t0,t2,t3 = 3, e2 = 1, e3 = 1: mean 2, max/mean 1.5.
// Distinct experts: device 0 {0,1}, device 1 {2,3}: 2 and 2.
// Destinations: t0 {0}, t1 {0,1}, t2 {0,1}, t3 {0}: 6 in all, 1.5 per token.
// Pairs [src, dst]: t0 0->0, t1 0->0 and 0->1, t2 1->0 and 1->1, t3 1->0: [[2, 1], [2, 1]].
// Assignment pairs (one per expert copy): t0 sends 2 to device 0, t1 1+1, t2 1+1, t3 2 to device 0:
//   [0->0: 2 + 1, 0->1: 1, 1->0: 1 + 2, 1->1: 1] = [[3, 1], [3, 1]].
TEST(Metrics, FourTokensTwoDevices) {
  const BatchLoad L = measure_load(four_tokens(), two_devices(), 1);
  EXPECT_EQ(L.device_assignments, (std::vector<int64_t>{6, 2}));
  EXPECT_EQ(L.expert_tokens, (std::vector<int64_t>{3, 3, 1, 1}));
  EXPECT_EQ(L.distinct_experts, (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(L.pair_tokens, (std::vector<int64_t>{2, 1, 2, 1}));
  EXPECT_EQ(L.pair_assignments, (std::vector<int64_t>{3, 1, 3, 1}));
  // One device per node, so node pairs equal device pairs.
  EXPECT_EQ(L.nodes, 2);
  EXPECT_EQ(L.pair_node_tokens, (std::vector<int64_t>{2, 1, 2, 1}));
  EXPECT_EQ(L.token_dest_devices, 6);
  EXPECT_EQ(L.token_dest_nodes, 6);  // one device per node
  const MetricValues m = batch_metrics(L);
  EXPECT_DOUBLE_EQ(value(m, Metric::device_max_over_mean), 1.5);
  EXPECT_DOUBLE_EQ(value(m, Metric::device_min_over_mean), 0.5);
  EXPECT_DOUBLE_EQ(value(m, Metric::device_cv), 0.5);
  EXPECT_DOUBLE_EQ(value(m, Metric::imbalance_score), 1.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::imbalanced_batch), 1.0);  // IS = 1 > 0
  EXPECT_DOUBLE_EQ(value(m, Metric::expert_max_over_mean), 1.5);
  EXPECT_DOUBLE_EQ(value(m, Metric::drop_rate), 0.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::distinct_experts_mean), 2.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::distinct_experts_max), 2.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::dest_devices_per_token), 1.5);
  EXPECT_DOUBLE_EQ(value(m, Metric::dest_nodes_per_token), 1.5);
}

// Both devices on one node: every token reaches exactly one node, 4 / 4 = 1.
TEST(Metrics, NodesGroupDevices) {
  const BatchLoad L = measure_load(four_tokens(), two_devices(), 2);
  EXPECT_EQ(L.token_dest_nodes, 4);
  EXPECT_DOUBLE_EQ(value(batch_metrics(L), Metric::dest_nodes_per_token), 1.0);
}

// Dropping t3's slot 1 (expert 1) and emptying t1's slot 1 (was expert 2):
// device 0 = 2 + 1 + 1 + 1 = 5, device 1 = 1 (t2 -> expert 3); e1 = 2, e2 = 0.
// drop_rate = 1 / 8; IS = (5 - 1) / 4 = 1; t1 now reaches only device 0: destinations 1+1+2+1 = 5.
TEST(Metrics, DroppedAndEmptySlotsAreNotLoad) {
  Assignments a = four_tokens();
  a.dropped.assign(8, 0);
  a.dropped[7] = 1;
  a.dropped_count = 1;
  a.expert[3] = kNoExpert;
  const BatchLoad L = measure_load(a, two_devices(), 1);
  EXPECT_EQ(L.device_assignments, (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(L.expert_tokens, (std::vector<int64_t>{3, 2, 0, 1}));
  EXPECT_EQ(L.distinct_experts, (std::vector<int32_t>{2, 1}));
  EXPECT_EQ(L.token_dest_devices, 5);
  const MetricValues m = batch_metrics(L);
  EXPECT_DOUBLE_EQ(value(m, Metric::drop_rate), 0.125);
  EXPECT_DOUBLE_EQ(value(m, Metric::imbalance_score), 1.0);
}

// One expert replicated on 2 devices: token t uses replica t % 2, so 4 tokens split 2 / 2: IS = 0,
// max/mean = 1, CV = 0, one distinct physical expert per device.
TEST(Metrics, ReplicasSplitTokens) {
  const Placement p = Placement::from_physical(1, 2, {0, 0}, {0, 1});
  Assignments a;
  a.resize(4, 1);
  a.expert.assign(4, 0);
  a.requested = 4;
  const BatchLoad L = measure_load(a, p, 1);
  EXPECT_EQ(L.device_assignments, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(L.distinct_experts, (std::vector<int32_t>{1, 1}));
  const MetricValues m = batch_metrics(L);
  EXPECT_DOUBLE_EQ(value(m, Metric::imbalance_score), 0.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::imbalanced_batch), 0.0);  // IS = 0: a balanced batch
  EXPECT_DOUBLE_EQ(value(m, Metric::device_max_over_mean), 1.0);
  EXPECT_DOUBLE_EQ(value(m, Metric::device_cv), 0.0);
}

// No tokens: every load is 0 and every ratio is defined as 0, never NaN.
TEST(Metrics, EmptyBatchGivesZerosNotNaN) {
  Assignments a;
  a.resize(0, 2);
  const MetricValues m = batch_metrics(measure_load(a, two_devices(), 1));
  for (int i = 0; i < kNumMetrics; ++i) {
    EXPECT_FALSE(std::isnan(m[i])) << metric_name(static_cast<Metric>(i));
    EXPECT_EQ(m[i], 0.0) << metric_name(static_cast<Metric>(i));
  }
}

TEST(Metrics, NamesAreTheEnumIdentifiers) {
  EXPECT_EQ(metric_name(Metric::device_max_over_mean), "device_max_over_mean");
  EXPECT_EQ(metric_name(Metric::imbalance_score), "imbalance_score");
  EXPECT_EQ(metric_name(Metric::dest_nodes_per_token), "dest_nodes_per_token");
  std::set<std::string> names;
  for (int i = 0; i < kNumMetrics; ++i) names.emplace(metric_name(static_cast<Metric>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kNumMetrics));
  EXPECT_EQ(names.count("?"), 0u);
}

// {4, 1, 3, 2} sorted = {1, 2, 3, 4}: mean 2.5; p50 at position 0.5 * 3 = 1.5 -> 2.5;
// p99 at 0.99 * 3 = 2.97 -> 3 + 0.97 * (4 - 3) = 3.97 (numpy.percentile gives the same); max 4.
TEST(Summarize, LinearInterpolation) {
  const Distribution d = summarize({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(d.mean, 2.5);
  EXPECT_DOUBLE_EQ(d.p50, 2.5);
  EXPECT_NEAR(d.p99, 3.97, 1e-12);
  EXPECT_DOUBLE_EQ(d.max, 4.0);
}

TEST(Summarize, SingleAndEmpty) {
  const Distribution one = summarize({7});
  EXPECT_EQ(one.p50, 7.0);
  EXPECT_EQ(one.p99, 7.0);
  const Distribution none = summarize({});
  EXPECT_EQ(none.mean, 0.0);
  EXPECT_EQ(none.p99, 0.0);
  EXPECT_EQ(none.max, 0.0);
}

}  // namespace
}  // namespace moesim
