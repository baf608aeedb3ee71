// The planner on a small search whose structure can be counted by hand.
#include "moesim/config.hpp"
#include "moesim/plan.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

PlanRequest small_request(int threads) {
  LoadOptions lo;
  lo.preset_dirs = kConfigs;
  PlanRequest req;
  req.base = load_scenario(std::string(MOESIM_SOURCE_DIR) + "/configs/validation/deepseek-v3-decode-h800.yaml", lo,
                           builtin_registries());
  req.hardware = {load_hardware_preset("h800", kConfigs), load_hardware_preset("h200", kConfigs)};
  req.devices = {16, 32};
  req.batch_per_device = {16, 64};
  req.tensor_parallel = {1};
  req.target_tokens_per_s = 200000;
  req.max_tpot_s = 0.060;
  req.threads = threads;
  return req;
}

// 2 hardware x 2 device counts x 1 layout x 2 batches = 8 candidates. Routing depends on (EP ranks, ranks
// per node, tokens), not on the hardware (both have 8 devices per node): 2 x 2 = 4 routing inputs.
TEST(Plan, RoutesEachRoutingInputOnceAndCostsEveryCandidate) {
  const PlanResult r = plan(small_request(1), builtin_registries());
  ASSERT_EQ(r.candidates.size(), 8u);
  EXPECT_EQ(r.routing_samples, 4);
  ASSERT_EQ(r.best.size(), 2u);
  for (const auto& c : r.candidates) {
    if (!c.rejected.empty()) continue;
    // Replicas: the fewest copies whose summed throughput reaches the target.
    EXPECT_EQ(c.replicas, std::max(1, int(std::ceil(200000 / c.tokens_per_s - 1e-12)))) << c.hardware;
    EXPECT_GE(c.replicas * c.tokens_per_s, 200000 * (1 - 1e-12));
    EXPECT_DOUBLE_EQ(c.usd_per_hour, c.replicas * c.devices * (c.hardware == "h800" ? 2.0 : 4.0));
  }
}

TEST(Plan, BestIsTheCheapestThatMeetsTheLatencyObjective) {
  const PlanResult r = plan(small_request(1), builtin_registries());
  for (size_t h = 0; h < r.best.size(); ++h) {
    if (r.best[h] < 0) continue;
    const auto& best = r.candidates[r.best[h]];
    EXPECT_TRUE(best.meets_latency);
    EXPECT_LE(best.latency_p99_s, 0.060);
    for (const auto& c : r.candidates)
      if (c.hardware == best.hardware && c.rejected.empty() && c.meets_latency) EXPECT_LE(best.usd_per_hour, c.usd_per_hour);
  }
}

// Pareto: no frontier point is dominated; every other costed point is dominated by one of its hardware.
TEST(Plan, FrontierPointsAreExactlyTheUndominatedOnes) {
  const PlanResult r = plan(small_request(1), builtin_registries());
  const auto dominates = [](const PlanCandidate& b, const PlanCandidate& a) {
    return b.hardware == a.hardware && b.latency_p99_s <= a.latency_p99_s &&
           b.tokens_per_s_per_device >= a.tokens_per_s_per_device &&
           (b.latency_p99_s < a.latency_p99_s || b.tokens_per_s_per_device > a.tokens_per_s_per_device);
  };
  int frontier = 0;
  for (const auto& a : r.candidates) {
    if (!a.rejected.empty()) continue;
    bool dominated = false;
    for (const auto& b : r.candidates) dominated = dominated || (b.rejected.empty() && dominates(b, a));
    EXPECT_EQ(a.on_frontier, !dominated);
    frontier += a.on_frontier;
  }
  EXPECT_GE(frontier, 2) << "at least one point per hardware";
}

TEST(Plan, ResultsDoNotDependOnTheThreadCount) {
  const PlanResult one = plan(small_request(1), builtin_registries());
  const PlanResult two = plan(small_request(2), builtin_registries());
  ASSERT_EQ(one.candidates.size(), two.candidates.size());
  for (size_t i = 0; i < one.candidates.size(); ++i) {
    EXPECT_EQ(one.candidates[i].step_p99_s, two.candidates[i].step_p99_s);
    EXPECT_EQ(one.candidates[i].rejected, two.candidates[i].rejected);
  }
  EXPECT_EQ(one.best, two.best);
}

TEST(Plan, UnsupportedPrecisionIsRejectedNotCosted) {
  PlanRequest req = small_request(1);
  req.hardware = {load_hardware_preset("ascend-910b", kConfigs)};  // no FP8; the scenario uses FP8
  const PlanResult r = plan(req, builtin_registries());
  for (const auto& c : r.candidates) EXPECT_EQ(c.rejected, "no FP8 support");
  EXPECT_EQ(r.best[0], -1);
}

}  // namespace
}  // namespace moesim
