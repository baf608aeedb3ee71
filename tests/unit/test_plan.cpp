// The planner on small searches whose structure and arithmetic can be checked by hand.
#include "moesim/config.hpp"
#include "moesim/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

ScenarioSpec load(const std::string& rel, std::vector<std::string> overrides = {}) {
  LoadOptions lo;
  lo.preset_dirs = kConfigs;
  lo.overrides = std::move(overrides);
  return load_scenario(std::string(MOESIM_SOURCE_DIR) + "/" + rel, lo, builtin_registries());
}

// DeepSeek-V3 decode (FP8, 4K context), h800 ($2.0/hour) and h200 ($4.0/hour), 16 and 32 devices,
// TP 1 only, 16 and 64 sequences per device.
PlanRequest small_request(int threads) {
  PlanRequest req;
  req.base = load("configs/validation/deepseek-v3-decode-h800.yaml");
  req.hardware = {load_hardware_preset("h800", kConfigs), load_hardware_preset("h200", kConfigs)};
  req.devices = {16, 32};
  req.decode_batch = {16, 64};
  req.prefill_batch = {2048, 8192};
  req.tensor_parallel = {1};
  req.target_tokens_per_s = 200000;
  req.max_tpot_s = 0.060;
  req.threads = threads;
  return req;
}

// 2 hardware x 2 device counts x 1 layout x 2 batches = 8 candidates. Routing depends on (setup, EP ranks,
// ranks per node, tokens), not on the hardware (both have 8 devices per node): 2 x 2 = 4 routing inputs.
TEST(Plan, RoutesEachRoutingInputOnceAndCostsEveryCandidate) {
  const PlanResult r = plan(small_request(1), builtin_registries());
  ASSERT_EQ(r.candidates.size(), 8u);
  EXPECT_EQ(r.routing_samples, 4);
  EXPECT_EQ(r.capped_samples, 0) << "64 sequences x 16 devices / 16 ranks = 64 tokens per rank, under the 1024 cap";
  ASSERT_EQ(r.best.size(), 2u);
  for (const auto& c : r.candidates) {
    ASSERT_TRUE(c.rejected.empty()) << c.rejected;
    EXPECT_EQ(c.routed_tokens, c.tokens_per_step);
    // Replicas: the fewest copies whose summed throughput reaches the target.
    EXPECT_EQ(c.replicas, std::max(1, int(std::ceil(200000 / c.tokens_per_s - 1e-12)))) << c.hardware;
    EXPECT_GE(c.replicas * c.tokens_per_s, 200000 * (1 - 1e-12));
    EXPECT_DOUBLE_EQ(c.usd_per_hour, c.replicas * c.devices * (c.hardware == "h800" ? 2.0 : 4.0));
  }
}

// A scenario whose run leaves warm-up steps out (run.measure_from) is still plannable: the planner's
// samples are few, and every one of them is measured. 4 steps with measure_from 3 would leave the
// 2 sample steps nothing to measure if it were kept.
TEST(Plan, AScenarioWarmUpDoesNotApplyToTheSamples) {
  PlanRequest req = small_request(1);
  req.base = load("configs/validation/deepseek-v3-decode-h800.yaml", {"run.measure_from=3"});
  const PlanResult r = plan(req, builtin_registries());
  ASSERT_EQ(r.candidates.size(), 8u);
  const PlanResult plain = plan(small_request(1), builtin_registries());
  for (size_t i = 0; i < r.candidates.size(); ++i)
    EXPECT_DOUBLE_EQ(r.candidates[i].step_p99_s, plain.candidates[i].step_p99_s) << i;
}

// A candidate costed from its own routing samples is the scenario `moesim run` would cost: the same
// hardware, devices, layout and batch with run.steps = sample steps and run.layers = sample layers.
TEST(Plan, ACandidateIsWhatTheSimulatorGivesForTheSameScenario) {
  PlanRequest req = small_request(1);
  req.sample_steps = 3;
  req.sample_layers = 1;
  const PlanResult r = plan(req, builtin_registries());
  const PlanCandidate& c = r.candidates[1];  // h800, 16 devices, TP1, batch 64
  ASSERT_EQ(c.hardware, "h800");
  ASSERT_EQ(c.devices, 16);
  ASSERT_EQ(c.batch_per_device, 64);
  const ScenarioSpec s = load("configs/validation/deepseek-v3-decode-h800.yaml",
                              {"cluster.devices=16", "deployment.attention.dp=16", "deployment.experts.ep=16",
                               "run.tokens_per_step=1024", "run.steps=3", "run.layers=1"});
  const ThroughputResult t = simulate(s, builtin_registries()).setups[0].throughput;
  EXPECT_DOUBLE_EQ(c.step_p99_s, t.step_s.p99);
  EXPECT_DOUBLE_EQ(c.latency_p99_s, t.step_s.p99);  // no MTP: TPOT = step time
  EXPECT_DOUBLE_EQ(c.tokens_per_s, 1024 / t.step_s.p99);
}

TEST(Plan, BestIsTheCheapestThatMeetsTheLatencyLimit) {
  const PlanResult r = plan(small_request(1), builtin_registries());
  for (const auto& choice : r.best) {
    ASSERT_TRUE(choice.meets) << choice.reason;
    ASSERT_GE(choice.decode, 0);
    EXPECT_EQ(choice.prefill, -1);
    const auto& best = r.candidates[size_t(choice.decode)];
    EXPECT_TRUE(best.meets_latency);
    EXPECT_LE(best.latency_p99_s, 0.060);
    EXPECT_EQ(choice.usd_per_hour, best.usd_per_hour);
    // At the target: $/hour over the target's tokens per hour, per million.
    EXPECT_DOUBLE_EQ(choice.usd_per_million_tokens, best.usd_per_hour / (200000 * 3600.0) * 1e6);
    for (const auto& c : r.candidates) {
      if (c.hardware == best.hardware && c.meets_latency) {
        EXPECT_LE(best.usd_per_hour, c.usd_per_hour);
      }
    }
  }
  EXPECT_TRUE(r.cheapest.meets);
  EXPECT_EQ(r.cheapest.usd_per_hour, std::min(r.best[0].usd_per_hour, r.best[1].usd_per_hour));
}

// Nothing meets a 1 ms TPOT: the choice says so and carries the candidate with the lowest TPOT.
TEST(Plan, AMissCarriesTheReasonAndTheNearestCandidate) {
  PlanRequest req = small_request(1);
  req.max_tpot_s = 0.001;
  const PlanResult r = plan(req, builtin_registries());
  const PlanChoice& c = r.best[0];
  EXPECT_FALSE(c.meets);
  ASSERT_GE(c.decode, 0);
  double lowest = 1e9;
  for (const auto& k : r.candidates)
    if (k.hardware == "h800") lowest = std::min(lowest, k.latency_p99_s);
  EXPECT_EQ(r.candidates[size_t(c.decode)].latency_p99_s, lowest);
  EXPECT_EQ(c.reason.rfind("no decode candidate meets TPOT p99 <= 1.0 ms (the nearest reaches ", 0), 0u) << c.reason;
  EXPECT_FALSE(r.cheapest.meets);
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
    bool dominated = false;
    for (const auto& b : r.candidates) dominated = dominated || dominates(b, a);
    EXPECT_EQ(a.on_frontier, !dominated);
    frontier += a.on_frontier;
  }
  EXPECT_GE(frontier, 2) << "at least one point per hardware";
}

// By hand: (1, 10) twice (equal, so neither dominates the other), (2, 20) beats both on throughput, (2, 15)
// loses to (2, 20) at equal latency, (3, 20) loses to (2, 20) at equal throughput.
TEST(Plan, ParetoFrontierByHand) {
  const std::vector<double> lat = {2, 1, 3, 2, 1}, thr = {15, 10, 20, 20, 10};
  EXPECT_EQ(pareto_frontier(lat, thr), (std::vector<bool>{false, true, false, true, true}));
  EXPECT_TRUE(pareto_frontier({}, {}).empty());
}

TEST(Plan, ResultsDoNotDependOnTheThreadCount) {
  const PlanResult one = plan(small_request(1), builtin_registries());
  const PlanResult two = plan(small_request(2), builtin_registries());
  ASSERT_EQ(one.candidates.size(), two.candidates.size());
  for (size_t i = 0; i < one.candidates.size(); ++i) {
    EXPECT_EQ(one.candidates[i].step_p99_s, two.candidates[i].step_p99_s);
    EXPECT_EQ(one.candidates[i].rejected, two.candidates[i].rejected);
  }
  for (size_t h = 0; h < one.best.size(); ++h) EXPECT_EQ(one.best[h].decode, two.best[h].decode);
}

TEST(Plan, UnsupportedPrecisionIsRejectedNotCosted) {
  PlanRequest req = small_request(1);
  req.hardware = {load_hardware_preset("ascend-910b", kConfigs)};  // no FP8; the scenario uses FP8
  const PlanResult r = plan(req, builtin_registries());
  for (const auto& c : r.candidates) EXPECT_EQ(c.rejected, "no FP8 support");
  EXPECT_FALSE(r.best[0].meets);
  EXPECT_EQ(r.best[0].setup, -1);
  EXPECT_EQ(r.best[0].reason, "every decode candidate was rejected: no FP8 support (4)");
}

// Every setup of the scenario is planned: the 910B scenario's top8 (contiguous) and moge (by_group).
TEST(Plan, EverySetupIsPartOfTheSearch) {
  PlanRequest req;
  req.base = load("configs/scenarios/pangu-moge-vs-topk-910b.yaml");
  req.hardware = {load_hardware_preset("ascend-910b", kConfigs)};
  req.devices = {8, 16};
  req.decode_batch = {32, 114};
  req.tensor_parallel = {1, 4};
  req.target_tokens_per_s = 50000;
  req.max_tpot_s = 0.2;
  const PlanResult r = plan(req, builtin_registries());
  // Layouts: 8 devices: (tp, etp) in {1, 4}^2 = 4; 16 devices: 4. x 2 batches x 2 setups = 32.
  ASSERT_EQ(r.candidates.size(), 32u);
  for (int s = 0; s < 2; ++s)
    EXPECT_EQ(std::count_if(r.candidates.begin(), r.candidates.end(), [&](const PlanCandidate& c) { return c.setup == s; }), 16);
  ASSERT_EQ(r.best_per_setup.size(), 1u);
  ASSERT_EQ(r.best_per_setup[0].size(), 2u);
  const PlanChoice &top8 = r.best_per_setup[0][0], &moge = r.best_per_setup[0][1];
  ASSERT_TRUE(top8.meets && moge.meets);
  EXPECT_EQ(top8.setup, 0);
  EXPECT_EQ(moge.setup, 1);
  // The hardware's best is the cheaper of the two (ties: the lower TPOT).
  const PlanChoice& want = std::tie(top8.usd_per_hour, top8.tpot_s) <= std::tie(moge.usd_per_hour, moge.tpot_s) ? top8 : moge;
  EXPECT_EQ(r.best[0].setup, want.setup);
  EXPECT_EQ(r.best[0].decode, want.decode);
}

// Batches above the cap route sample_tokens_per_rank tokens per EP rank: prefill of 2048 and 8192 tokens
// per device with a cap of 512 per rank routes 512 x ep tokens for both, so the 2 batches share one routing
// input per (device count): 2 inputs, not 4. Scaling the sample's loads up must give the uncapped cost
// within the sample's extra noise (a missing scale-up would make the capped step far cheaper).
TEST(Plan, CappedSamplesAreSharedAndScaledToTheBatch) {
  PlanRequest capped = small_request(1);
  capped.base = load("configs/validation/deepseek-v3-prefill-h800.yaml");
  capped.hardware = {load_hardware_preset("h800", kConfigs)};
  capped.max_tpot_s = 0;
  capped.max_ttft_s = 5;
  capped.sample_tokens_per_rank = 512;
  PlanRequest whole = capped;
  whole.sample_tokens_per_rank = 0;
  const PlanResult rc = plan(capped, builtin_registries()), rw = plan(whole, builtin_registries());
  ASSERT_EQ(rc.candidates.size(), 4u);
  EXPECT_EQ(rc.routing_samples, 2);
  EXPECT_EQ(rc.capped_samples, 2);
  EXPECT_EQ(rw.routing_samples, 4);
  for (size_t i = 0; i < rc.candidates.size(); ++i) {
    const PlanCandidate &c = rc.candidates[i], &w = rw.candidates[i];
    ASSERT_TRUE(c.rejected.empty()) << c.rejected;
    EXPECT_EQ(c.routed_tokens, 512 * c.devices);  // EP = devices at expert TP 1
    EXPECT_EQ(w.routed_tokens, w.tokens_per_step);
    EXPECT_GE(c.step_p99_s, w.step_p99_s * 0.999) << "a sample's noise never makes the step faster here";
    EXPECT_LE(c.step_p99_s, w.step_p99_s * 1.05) << "but stays within a few percent";
  }
}

// Prefill TTFT: a prompt of context_length (4096) tokens; each attention-DP rank prefills batch x tp tokens
// per step, so a 2048-token share needs ceil(4096 / 2048) = 2 steps, an 8192 share one.
TEST(Plan, PrefillTtftCountsTheStepsAPromptNeeds) {
  PlanRequest req = small_request(1);
  req.base = load("configs/validation/deepseek-v3-prefill-h800.yaml");
  req.max_tpot_s = 0;
  const PlanResult r = plan(req, builtin_registries());
  for (const auto& c : r.candidates) {
    ASSERT_EQ(c.phase, Phase::prefill);
    EXPECT_DOUBLE_EQ(c.latency_p99_s, c.step_p99_s * (c.batch_per_device == 2048 ? 2 : 1)) << c.batch_per_device;
  }
}

// Disaggregated: 2000 input + 500 output tokens per request. The decode pool serves the target (200,000
// output tokens/s); the prefill pool the prompts of target / 500 = 400 requests/s, 800,000 input tokens/s.
// Costs add.
TEST(Plan, DisaggregatedPoolsAreSizedApartAndTheirCostsAdd) {
  PlanRequest req = small_request(1);
  req.mode = PlanMode::disaggregated;
  req.input_tokens = 2000;
  req.output_tokens = 500;
  req.max_ttft_s = 3.0;
  const PlanResult r = plan(req, builtin_registries());
  ASSERT_EQ(r.candidates.size(), 16u);  // 8 prefill + 8 decode
  for (const auto& c : r.candidates) {
    const double target = c.phase == Phase::decode ? 200000 : 800000;
    EXPECT_EQ(c.replicas, std::max(1, int(std::ceil(target / c.tokens_per_s - 1e-12))));
  }
  const PlanChoice& c = r.best[0];
  ASSERT_TRUE(c.meets) << c.reason;
  ASSERT_GE(c.prefill, 0);
  ASSERT_GE(c.decode, 0);
  const PlanCandidate &p = r.candidates[size_t(c.prefill)], &d = r.candidates[size_t(c.decode)];
  EXPECT_EQ(p.phase, Phase::prefill);
  EXPECT_EQ(d.phase, Phase::decode);
  EXPECT_DOUBLE_EQ(c.usd_per_hour, p.usd_per_hour + d.usd_per_hour);
  EXPECT_DOUBLE_EQ(c.ttft_s, p.latency_p99_s);
  EXPECT_DOUBLE_EQ(c.tpot_s, d.latency_p99_s);
  EXPECT_LE(c.ttft_s, 3.0);
  EXPECT_LE(c.tpot_s, 0.060);
  // Every prefill pool's TTFT includes handing one prompt's KV cache to the decode pool: DeepSeek-V3's MLA
  // cache is (kv_lora_rank 512 + rope 64) x 2 B (bf16) = 1152 B per token and layer, x 61 layers x 2000
  // tokens = 140,544,000 B, from one device (MLA's cache is not split over TP) over H800's and H200's
  // 400G NIC at the achievable 0.86 x 50 GB/s = 43 GB/s, plus 3 us: 3.2715 ms.
  const double handoff = 3e-6 + 140544000.0 / 43e9;
  for (const auto& k : r.candidates) {
    if (k.phase == Phase::decode) {
      EXPECT_EQ(k.kv_handoff_s, 0.0);
      continue;
    }
    EXPECT_NEAR(k.kv_handoff_s, handoff, 1e-12);
    EXPECT_NEAR(k.latency_p99_s, k.step_p99_s + handoff, 1e-9)
        << "a 2000-token prompt fits in one step of 2048 or 8192 tokens per device";
  }
}

// The hand-off on its own: Qwen3-30B-A3B (GQA, 4 KV heads of 128, 48 layers), bf16 cache: 2 x 4 x 128 x
// 2 B = 2048 B per token and layer, x 48 x 1000 prompt tokens = 98,304,000 B. With attention TP 2 each
// of 2 devices holds two KV heads and sends its half: 98.304 MB / (2 x 43 GB/s) + 3 us = 1.1461 ms. TP 8
// splits only 4 ways (4 KV heads). No scale-out link: impossible (+inf), and the planner rejects the pool.
TEST(Plan, KvHandoffSendsEachShardOverItsOwnNic) {
  const ModelSpec m = load_model_preset("qwen3-30b-a3b", kConfigs);
  HardwareSpec hw = load_hardware_preset("h800", kConfigs);
  DeploymentSpec d;
  d.kv_cache = DType::bf16;
  d.attention = {1, 2};
  EXPECT_NEAR(kv_handoff_seconds(m, d, hw, 1000), 3e-6 + 98304000.0 / 86e9, 1e-12);
  d.attention = {1, 8};
  EXPECT_NEAR(kv_handoff_seconds(m, d, hw, 1000), 3e-6 + 98304000.0 / (4 * 43e9), 1e-12);
  hw.scale_out.bandwidth_bytes_per_s = 0;
  EXPECT_TRUE(std::isinf(kv_handoff_seconds(m, d, hw, 1000)));
}

// Colocated: one pool. Per replica, prefilling alone serves a = prefill tok/s / 2000 requests/s and decoding
// alone b = decode tok/s / 500; together f = b / (a + b) of the time goes to prefill, ab / (a + b) requests/s
// are served, TPOT stretches to decode TPOT / (1 - f) and TTFT is prefill TTFT + one decode step.
TEST(Plan, ColocatedPoolSharesItsTimeBetweenThePhases) {
  PlanRequest req = small_request(1);
  req.mode = PlanMode::colocated;
  req.input_tokens = 2000;
  req.output_tokens = 500;
  req.max_tpot_s = 0.2;
  req.max_ttft_s = 5.0;
  const PlanResult r = plan(req, builtin_registries());
  const PlanChoice& c = r.best[0];
  ASSERT_TRUE(c.meets) << c.reason;
  const PlanCandidate &p = r.candidates[size_t(c.prefill)], &d = r.candidates[size_t(c.decode)];
  EXPECT_EQ(std::tie(p.devices, p.attention_tp, p.expert_tp), std::tie(d.devices, d.attention_tp, d.expert_tp));
  const double a = p.tokens_per_s / 2000, b = d.tokens_per_s / 500;
  EXPECT_NEAR(c.prefill_fraction, b / (a + b), 1e-12);
  EXPECT_NEAR(c.tpot_s, d.latency_p99_s / (1 - b / (a + b)), 1e-12);
  EXPECT_NEAR(c.ttft_s, p.latency_p99_s + d.step_p99_s, 1e-12);
  EXPECT_EQ(c.replicas, int(std::ceil(200000.0 / 500 / (a * b / (a + b)) - 1e-12)));
  EXPECT_DOUBLE_EQ(c.usd_per_hour, c.replicas * d.devices * 2.0);
  // Both batches' KV caches fit beside one copy of the weights.
  EXPECT_LE(d.memory.weights + d.memory.kv_cache + p.memory.kv_cache + std::max(d.memory.activations, p.memory.activations),
            d.memory.capacity);
}

}  // namespace
}  // namespace moesim
