// Unit tests of the step-to-step dynamics: the 300I Duo MoGE voting restriction, DeepSeek's
// aux-loss-free bias update, in-simulation EPLB (schedule, migration accounting, determinism) and
// popularity drift. Every expectation is derived in the comment above it.
#include "moesim/config.hpp"
#include "moesim/registries.hpp"
#include "moesim/router.hpp"
#include "moesim/simulator.hpp"
#include "sim/dynamics.hpp"
#include "workload/synthetic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace moesim {
namespace {

Scores scores_of(const std::vector<std::vector<float>>& rows) {
  Scores m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (size_t t = 0; t < rows.size(); ++t)
    for (size_t e = 0; e < rows[t].size(); ++e) m(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(e)) = rows[t][e];
  return m;
}

Assignments route_moge(int voted, const Scores& scores, int threads = 1) {
  RouterSpec s;
  s.name = "moge";
  s.num_experts = 6;
  s.k = 2;
  s.groups = 2;
  s.voted_experts = voted;
  const RouterEntry& entry = builtin_registries().routers.get("moge").factory;
  entry.validate(s, "t.yaml", "router");
  ThreadPool pool(threads);
  Assignments out;
  entry.make(s)->route(scores, {}, out, pool);
  return out;
}

// 6 experts in 2 groups ({0,1,2}, {3,4,5}), k = 2 (one per group), softmax, voted_experts = 2.
// Group argmaxes (the votes): t0 -> 0, 5; t1 -> 0, 3; t2 -> 1, 4; t3 -> 2, 5.
// Group 0 votes: e0 2, e1 1, e2 1 -> keep e0 and (tie e1/e2 -> lower) e1.
// Group 1 votes: e3 1, e4 1, e5 2 -> keep e5 and (tie e3/e4 -> lower) e3.
// Each token's best kept expert per group: t0 [0, 5]; t1 [0, 3]; t2 [1 (3 > 1), 5 (2 > 1)];
// t3 [1 (its own e2 was dropped; 2 > 1), 5]. Weights: the global softmax of the row at those experts,
// e.g. t3: exp(2) / (exp(1) + exp(2) + exp(3) + exp(2) + exp(1) + exp(3)).
TEST(MogeVoting, HandWorkedBatch) {
  const Scores x = scores_of({{3, 2, 1, 1, 2, 3}, {3, 1, 2, 3, 2, 1}, {1, 3, 2, 1, 3, 2}, {1, 2, 3, 2, 1, 3}});
  const Assignments a = route_moge(2, x);
  const std::vector<std::vector<int>> want = {{0, 5}, {0, 3}, {1, 5}, {1, 5}};
  for (int t = 0; t < 4; ++t)
    for (int s = 0; s < 2; ++s) EXPECT_EQ(a.expert_at(t, s), want[t][s]) << "token " << t << " slot " << s;
  const double z3 = 2 * std::exp(1.0) + 2 * std::exp(2.0) + 2 * std::exp(3.0);
  EXPECT_NEAR(a.weight_at(3, 0), std::exp(2.0) / z3, 1e-6);
  EXPECT_NEAR(a.weight_at(3, 1), std::exp(3.0) / z3, 1e-6);
  EXPECT_EQ(a.requested, 8);
  // Plain MoGE (voting off) keeps t3's own group-0 argmax, expert 2.
  EXPECT_EQ(route_moge(0, x).expert_at(3, 0), 2);
  // voted_experts = experts per group (3) keeps every expert: the same as plain MoGE.
  const Assignments all = route_moge(3, x), plain = route_moge(0, x);
  EXPECT_EQ(all.expert, plain.expert);
}

TEST(MogeVoting, RejectsOutOfRange) {
  RouterSpec s;
  s.name = "moge";
  s.num_experts = 6;
  s.k = 2;
  s.groups = 2;
  s.voted_experts = 4;  // more than the 3 experts of a group
  EXPECT_THROW(builtin_registries().routers.get("moge").factory.validate(s, "t.yaml", "router"), Error);
  s.name = "topk";
  s.voted_experts = 2;  // voting belongs to moge
  EXPECT_THROW(builtin_registries().routers.get("topk").factory.validate(s, "t.yaml", "router"), Error);
}

// A placement that puts expert e on device (e + shift) % 2 with 4 experts, 2 devices.
Placement shifted(int shift) {
  return Placement::from_physical(4, 2, {0, 1, 2, 3}, {shift % 2, (1 + shift) % 2, shift % 2, (1 + shift) % 2});
}

// Before: device 0 {0, 2}, device 1 {1, 3}. After (shift 1): device 0 {1, 3}, device 1 {0, 2}: all 4 copies
// land on a device that did not hold them. Same placement: 0 moved.
TEST(Rebalance, MovedExpertCopies) {
  EXPECT_EQ(moved_expert_copies(shifted(0), shifted(1)), 4);
  EXPECT_EQ(moved_expert_copies(shifted(0), shifted(0)), 0);
  // A replica added on device 1 for expert 0 (5 slots): one new copy.
  const Placement rep = Placement::from_physical(4, 2, {0, 2, 1, 3, 0}, {0, 0, 1, 1, 1});
  EXPECT_EQ(moved_expert_copies(shifted(0), rep), 1);
}

SetupSpec dynamic_setup(double gamma, int warmup, int every) {
  SetupSpec s;
  s.router.bias_update_speed = gamma;
  s.placement.name = "eplb";
  s.placement.warmup_steps = warmup;
  s.placement.rebalance_every = every;
  return s;
}

// One token per selection, one slot each: expert e selected loads[e] times. dropped[e] of expert e's
// selections are marked dropped by capacity (they still count as selections).
Assignments selections(const std::vector<int>& loads, const std::vector<int>& dropped = {}) {
  Assignments a;
  int total = 0;
  for (int n : loads) total += n;
  a.resize(total, 1);
  a.dropped.assign(static_cast<size_t>(total), 0);
  size_t t = 0;
  for (size_t e = 0; e < loads.size(); ++e)
    for (int i = 0; i < loads[e]; ++i, ++t) {
      a.expert[t] = static_cast<int32_t>(e);
      a.dropped[t] = i < (dropped.empty() ? 0 : dropped[e]);
    }
  return a;
}

// warmup 2, every 3: rebalances after steps 1, 4 and 7 (0-based), i.e. first used at steps 2, 5, 8,
// from windows of 2, 3 and 3 steps. The fake placement flips every time: 4 moved copies x 10 bytes each.
// The weight it sees is the window's mean load: loads [4, 2, 1, 1] every step -> exactly [4, 2, 1, 1].
TEST(Rebalance, ScheduleWindowAndBytes) {
  int calls = 0;
  std::vector<double> last_weight;
  SetupDynamics d(dynamic_setup(0, 2, 3), 1, 4, 9, 10, [&](const PlacementSpec& ps) {
    last_weight = ps.weight;
    return shifted(++calls);
  });
  std::vector<Placement> placement{shifted(0)};
  for (int64_t step = 0; step < 9; ++step) {
    d.record(0, selections({4, 2, 1, 1}));
    d.end_of_step(step, placement);
  }
  ASSERT_EQ(d.rebalances().size(), 3u);
  EXPECT_EQ(d.rebalances()[0].step, 2);
  EXPECT_EQ(d.rebalances()[0].window_steps, 2);
  EXPECT_EQ(d.rebalances()[1].step, 5);
  EXPECT_EQ(d.rebalances()[2].step, 8);
  EXPECT_EQ(d.rebalances()[2].window_steps, 3);
  EXPECT_EQ(d.rebalances()[1].moved_experts, 4);
  EXPECT_EQ(d.rebalances()[1].migration_bytes, 40);
  EXPECT_EQ(last_weight, (std::vector<double>{4, 2, 1, 1}));
}

// The same schedule in an 8-step run: the rebalance after step 7 would first be used at step 8, which
// does not exist, so it is neither computed nor counted: 2 rebalances, 2 x 40 bytes.
TEST(Rebalance, NoneAfterTheLastStep) {
  int calls = 0;
  SetupDynamics d(dynamic_setup(0, 2, 3), 1, 4, 8, 10, [&](const PlacementSpec&) { return shifted(++calls); });
  std::vector<Placement> placement{shifted(0)};
  for (int64_t step = 0; step < 8; ++step) {
    d.record(0, selections({4, 2, 1, 1}));
    d.end_of_step(step, placement);
  }
  ASSERT_EQ(d.rebalances().size(), 2u);
  EXPECT_EQ(d.rebalances()[1].step, 5);
  EXPECT_EQ(calls, 2);
  // A warm-up as long as the run: no rebalance at all (it would follow the last step).
  SetupDynamics w(dynamic_setup(0, 3, 0), 1, 4, 3, 10, [&](const PlacementSpec&) { return shifted(++calls); });
  for (int64_t step = 0; step < 3; ++step) {
    w.record(0, selections({4, 2, 1, 1}));
    w.end_of_step(step, placement);
  }
  EXPECT_TRUE(w.rebalances().empty());
}

// The command of the bug report: deepseek-r1-ep32-skew with --steps 10 (its eplb warm-up is 10 steps).
// The rebalance after step 9 used to be reported as {step: 10} with 49 GB moved; no step runs on it.
// (The preset now measures from step 10, which a 10-step run must reset.)
TEST(Rebalance, SkewPresetWithStepsEqualToTheWarmup) {
  LoadOptions opt;
  opt.overrides = {"run.steps=10", "run.layers=2", "run.tokens_per_step=512", "run.measure_from=0"};
  const std::string path = std::string(MOESIM_SOURCE_DIR) + "/configs/scenarios/deepseek-r1-ep32-skew.yaml";
  const ScenarioResult r = simulate(load_scenario(path, opt, builtin_registries()), builtin_registries());
  ASSERT_EQ(r.setups.size(), 2u);
  EXPECT_TRUE(r.setups[1].rebalances.empty());
  EXPECT_EQ(r.setups[1].migration_bytes, 0);
}

// Loads [5, 3, 2, 2]: mean 3. Expert 0 above -> -gamma; expert 1 equal -> unchanged; 2 and 3 below -> +gamma.
// A second step with the same loads doubles the moves. Expert 0 has 3 of its 5 selections dropped by
// capacity: the load is still 5 (selections, as DeepSeek counts them); kept loads [2, 3, 2, 2] (mean 2.25)
// would have moved expert 0 up and expert 1 down instead.
TEST(BiasUpdate, SignOfLoadMinusMean) {
  SetupDynamics d(dynamic_setup(0.25, 0, 0), 1, 4, 2, 0, nullptr);
  std::vector<Placement> placement{shifted(0)};
  ASSERT_TRUE(d.bias(0).empty() == false);
  for (int64_t step = 0; step < 2; ++step) {
    d.record(0, selections({5, 3, 2, 2}, {3, 0, 0, 0}));
    d.end_of_step(step, placement);
  }
  const auto b = d.bias(0);
  EXPECT_FLOAT_EQ(b[0], -0.5f);
  EXPECT_FLOAT_EQ(b[1], 0.0f);
  EXPECT_FLOAT_EQ(b[2], 0.5f);
  EXPECT_FLOAT_EQ(b[3], 0.5f);
  // gamma 0: no bias at all (routers get an empty span, so results are those without the option).
  SetupDynamics off(dynamic_setup(0, 0, 0), 1, 4, 2, 0, nullptr);
  EXPECT_TRUE(off.bias(0).empty());
  EXPECT_FALSE(off.records());
}

// A static router.bias is the starting bias: [0.1, 0, 0, -0.1] and the loads [5, 3, 2, 2] of one step
// (mean 3) with gamma 0.25 -> [0.1 - 0.25, 0, 0 + 0.25, -0.1 + 0.25] = [-0.15, 0, 0.25, 0.15].
TEST(BiasUpdate, StartsFromTheStaticBias) {
  SetupSpec setup = dynamic_setup(0.25, 0, 0);
  setup.router.bias = {0.1f, 0.0f, 0.0f, -0.1f};
  SetupDynamics d(setup, 1, 4, 2, 0, nullptr);  // 2 steps: step 0 is not the last
  std::vector<Placement> placement{shifted(0)};
  ASSERT_EQ(d.bias(0).size(), 4u);
  EXPECT_FLOAT_EQ(d.bias(0)[0], 0.1f);
  d.record(0, selections({5, 3, 2, 2}));
  d.end_of_step(0, placement);
  EXPECT_FLOAT_EQ(d.bias(0)[0], -0.15f);
  EXPECT_FLOAT_EQ(d.bias(0)[1], 0.0f);
  EXPECT_FLOAT_EQ(d.bias(0)[2], 0.25f);
  EXPECT_FLOAT_EQ(d.bias(0)[3], 0.15f);
}

std::unique_ptr<Workload> drift_workload(double drift) {
  WorkloadInput in;
  in.spec.popularity = Popularity::lognormal;
  in.spec.drift = drift;
  in.num_experts = 16;
  in.num_layers = 2;
  in.seed = 7;
  return workload_detail::make_synthetic_workload(in);
}

Scores generate(const Workload& w, int64_t step, int layer) {
  ThreadPool pool(1);
  Scores s;
  w.generate(step, layer, 8, s, pool);
  return s;
}

// A drifted value depends only on (seed, layer, step): step 5 asked first, after 0..5 in order, or
// after a later step (the walk restarts) gives the same bits. Step 0 has no increment yet: it equals
// the workload without drift (base popularity, renormalised: the same up to float rounding).
TEST(Drift, DeterministicWhateverTheCallOrder) {
  const auto fresh = drift_workload(0.3);
  const Scores direct = generate(*fresh, 5, 1);
  const auto walked = drift_workload(0.3);
  for (int64_t t = 0; t <= 7; ++t) generate(*walked, t, 1);
  EXPECT_EQ(generate(*walked, 5, 1), direct);
  const auto none = drift_workload(0.0);
  EXPECT_TRUE(generate(*fresh, 0, 0).isApprox(generate(*none, 0, 0), 1e-5f));
  EXPECT_FALSE(generate(*fresh, 5, 0).isApprox(generate(*none, 5, 0), 1e-3f));  // it did drift
}

// The scenario-level pieces: identical results for 1 and 3 threads with bias, eplb rebalancing and drift;
// migration bytes = moved copies x 3 x hidden x moe_intermediate x 2 (bf16): 3 * 64 * 32 * 2 = 12288.
constexpr const char* kDynamicScenario = R"(
model: {num_layers: 3, hidden: 64, moe_intermediate: 32, num_experts: 16, top_k: 2, num_groups: 4}
cluster: {devices: 4, devices_per_node: 2}
run: {steps: 12, tokens_per_step: 256, threads: THREADS}
workload: {popularity: lognormal, lognormal_sigma: 1.0, drift: 0.1}
setups:
  - name: static
  - name: dynamic
    router: {bias_update_speed: 0.01}
    placement: {name: eplb, replicas: 20, warmup_steps: 3, rebalance_every: 4}
)";

ScenarioResult run_dynamic(int threads) {
  std::string text = kDynamicScenario;
  text.replace(text.find("THREADS"), 7, std::to_string(threads));
  return simulate(parse_scenario(text, "dyn.yaml", {}, builtin_registries()), builtin_registries());
}

TEST(DynamicScenario, ThreadCountInvariantAndMigrationAccounting) {
  const ScenarioResult one = run_dynamic(1), three = run_dynamic(3);
  const SetupResult& d1 = one.setups[1];
  ASSERT_EQ(d1.rebalances.size(), 3u);  // after steps 2, 6, 10
  EXPECT_EQ(d1.rebalances[0].step, 3);
  EXPECT_EQ(d1.rebalances[2].step, 11);
  int64_t total = 0;
  for (const auto& r : d1.rebalances) {
    EXPECT_EQ(r.migration_bytes, r.moved_experts * 12288);
    total += r.migration_bytes;
  }
  EXPECT_EQ(d1.migration_bytes, total);
  EXPECT_GT(d1.rebalances[0].moved_experts, 0);
  EXPECT_TRUE(one.setups[0].rebalances.empty());
  for (size_t s = 0; s < 2; ++s)
    for (size_t t = 0; t < one.setups[s].per_step.size(); ++t)
      EXPECT_EQ(one.setups[s].per_step[t], three.setups[s].per_step[t]) << "setup " << s << " step " << t;
  EXPECT_EQ(d1.migration_bytes, three.setups[1].migration_bytes);
}

}  // namespace
}  // namespace moesim
