// Unit tests of the throughput model on cases small enough to work out by hand.
#include "cost/all_to_all.hpp"
#include "cost/model_math.hpp"
#include "moesim/config.hpp"
#include "moesim/simulator.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

ScenarioSpec parse(const std::string& yaml) {
  LoadOptions opt;
  opt.preset_dirs = kConfigs;
  return parse_scenario(yaml, "t.yaml", opt, builtin_registries());
}

// DeepSeek-V3 (configs/models/deepseek-v3.yaml): attention per block
//   q_a 7168*1536 = 11,010,048; q_b 1536*128*192 = 37,748,736; kv_a 7168*576 = 4,128,768;
//   kv_b 512*128*(128+128) = 16,777,216; o 128*128*7168 = 117,440,512; sum 187,105,280.
// Total: 61 * 187,105,280 + 3 dense FFN * 3*7168*18432 + 58 * 257 experts (256 routed + 1 shared) * 3*7168*2048
//   + 2 * 129280*7168 = 11.413e9 + 1.189e9 + 656.463e9 + 1.853e9 = 670.9e9 (the paper's 671B without MTP).
// Active: the same with 9 experts per MoE block instead of 257: 37.45e9 (the paper's 37B).
TEST(ModelMath, DeepSeekV3ParameterCounts) {
  const ModelSpec m = load_model_preset("deepseek-v3", kConfigs);
  EXPECT_DOUBLE_EQ(cost::attention_params(m), 187105280.0);
  EXPECT_DOUBLE_EQ(cost::expert_params(m), 44040192.0);
  EXPECT_NEAR(cost::total_params(m) / 1e9, 670.9, 0.1);
  EXPECT_NEAR(cost::active_params(m) / 1e9, 37.45, 0.05);
  // MLA cache per token and block: 512 latent + 64 rope values; bf16 = 1152 bytes; never split by TP.
  EXPECT_DOUBLE_EQ(cost::kv_bytes_per_token(m, DType::bf16), 1152.0);
  EXPECT_EQ(cost::kv_split(m, 8), 1);
  // Absorbed decode: per key, 128 heads * 2 * (512 + 64 for scores + 512 for values) = 278,528 FLOPs.
  EXPECT_DOUBLE_EQ(cost::attention_core_flops(m, 1.0, Phase::decode), 278528.0);
}

// GQA (Pangu Pro MoE: 40 heads, 8 KV heads, head_dim 128, hidden 5120):
//   q and o 5120*128*40 each, k and v 5120*128*8 each: 5120*128*96 = 62,914,560 per block.
//   KV cache per token and block: 2 * 8 * 128 values; bf16 -> 4096 bytes; split over at most 8 TP ranks.
TEST(ModelMath, GqaAttention) {
  const ModelSpec m = load_model_preset("pangu-pro-moe", kConfigs);
  EXPECT_DOUBLE_EQ(cost::attention_params(m), 62914560.0);
  EXPECT_DOUBLE_EQ(cost::kv_bytes_per_token(m, DType::bf16), 4096.0);
  EXPECT_EQ(cost::kv_split(m, 4), 4);
  EXPECT_EQ(cost::kv_split(m, 16), 8);
}

// Two ranks per node, two nodes: ranks 0,1 on node 0 and 2,3 on node 1.
BatchLoad four_ranks() {
  BatchLoad L;
  L.device_assignments.assign(4, 0);
  L.nodes = 2;
  L.pair_tokens.assign(16, 0);
  L.pair_assignments.assign(16, 0);
  L.pair_node_tokens.assign(8, 0);
  return L;
}

// Low latency: one copy per expert, no de-duplication. Rank 0 sends 3 assignments to rank 1 (same node)
// and 5 to rank 2 (other node); rank 3 sends 2 to rank 0. Rank 0: intra max(sent 3, received 0) = 3,
// inter max(sent 5, received 2) = 5. Rank 2: inter max(0, 5) = 5, intra 0.
TEST(AllToAll, LowLatencyCountsEveryExpertCopy) {
  BatchLoad L = four_ranks();
  L.pair_assignments[0 * 4 + 1] = 3;
  L.pair_assignments[0 * 4 + 2] = 5;
  L.pair_assignments[3 * 4 + 0] = 2;
  L.pair_assignments[0 * 4 + 0] = 7;  // to itself: free
  const auto c = cost::all_to_all_copies(L, 2, AllToAll::low_latency);
  EXPECT_DOUBLE_EQ(c[0].intra, 3);
  EXPECT_DOUBLE_EQ(c[0].inter, 5);
  EXPECT_DOUBLE_EQ(c[1].intra, 3);
  EXPECT_DOUBLE_EQ(c[2].inter, 5);
  EXPECT_DOUBLE_EQ(c[2].intra, 0);
  EXPECT_DOUBLE_EQ(c[3].inter, 2);
}

// Normal (DeepEP throughput kernels): 4 tokens on rank 0 each go to ranks 2 and 3 (node 1): the network
// carries them once per node, to rank 0's rail peer on node 1 (rank 2), which forwards the copies for
// rank 3 over the scale-up link. Rank 0: inter sent 4 (pair_node_tokens[0][1] = 4). Rank 2: inter
// received 4, intra sent 4 (forwarded to rank 3). Rank 3: intra received 4, inter 0.
TEST(AllToAll, NormalCrossesTheNetworkOncePerNodeThenForwards) {
  BatchLoad L = four_ranks();
  L.pair_tokens[0 * 4 + 2] = 4;
  L.pair_tokens[0 * 4 + 3] = 4;
  L.pair_node_tokens[0 * 2 + 1] = 4;
  const auto c = cost::all_to_all_copies(L, 2, AllToAll::normal);
  EXPECT_DOUBLE_EQ(c[0].inter, 4);
  EXPECT_DOUBLE_EQ(c[0].intra, 0);
  EXPECT_DOUBLE_EQ(c[2].inter, 4);
  EXPECT_DOUBLE_EQ(c[2].intra, 4);
  EXPECT_DOUBLE_EQ(c[3].intra, 4);
  EXPECT_DOUBLE_EQ(c[3].inter, 0);
  EXPECT_DOUBLE_EQ(c[1].intra + c[1].inter, 0);
}

// A toy deployment with round numbers (inline model and hardware): 2 devices, one per node, 2 experts,
// top-2 (every token goes to both experts), 100 tokens per step, tokens 0..49 start on device 0.
const char* kToy = R"(
model: {name: toy, num_layers: 1, hidden: 1024, vocab: 1000, attention: gqa, num_heads: 8, num_kv_heads: 8,
        head_dim: 128, num_experts: 2, top_k: 2, moe_intermediate: 512, scoring: softmax, router: topk}
cluster:
  devices: 2
  devices_per_node: 1
  hardware:
    name: toy
    description: round numbers
    source: none
    nominal: {flops_bf16: 1e12, flops_fp8: 0, flops_int8: 0, memory_bytes: 1e12, memory_bandwidth: 1e12,
              devices_per_node: 1, scale_up: {name: u, bandwidth: 1e9, latency: 0},
              scale_out: {name: o, bandwidth: 1e9, latency: 0}}
    calibrated:
      gemm: {value: 0.5, source: t}
      grouped_gemm: {value: 0.5, source: t}
      attention: {value: 0.5, source: t}
      memory: {value: 0.5, source: t}
      scale_up: {value: 0.5, source: t}
      scale_out: {value: 0.5, source: t}
      scale_up_low_latency: {value: 0.5, source: t}
      all_to_all_latency: {value: 10e-6, source: t}
      step_overhead: {value: 0, source: t}
      layer_overhead: {value: 0, source: t}
    price: {usd_per_hour: 1, source: t, date: "2026"}
run: {steps: 3, tokens_per_step: 100, seed: 1}
router: {name: topk, k: 2}
placement: {name: contiguous}
deployment: {phase: decode, context_length: 1, all_to_all: normal}
)";

// Dispatch per device: 50 tokens cross to the other node once each, 1024 bf16 values = 2048 bytes:
//   10 us + 50 * 2048 B / (1e9 B/s * 0.5) = 10 + 204.8 = 214.8 us; combine the same (bf16).
// Routed experts per device: 100 assignments to its one expert, 2 * 3 * 1024 * 512 * 100 = 314.57 MFLOP at
//   1e12 * 0.5 FLOP/s = 629.1 us; bytes 3*1024*512*2 + 2*100*1024*2 = 3.55 MB at 5e11 B/s = 7.1 us:
//   compute-bound, 629.1 us. Both devices are equally loaded, so nothing is lost to imbalance.
TEST(RooflineCost, ToyDeploymentByHand) {
  const ScenarioSpec spec = parse(kToy);
  const ScenarioResult r = simulate(spec, builtin_registries());
  const ThroughputResult& t = r.setups.front().throughput;
  ASSERT_TRUE(t.enabled);
  EXPECT_NEAR(t.dispatch_per_layer_s, 214.8e-6, 1e-12);
  EXPECT_NEAR(t.combine_per_layer_s, 214.8e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.routed_experts_s, 2.0 * 3 * 1024 * 512 * 100 / 5e11, 1e-12);
  EXPECT_NEAR(t.breakdown.imbalance_s, 0.0, 1e-15);
  // No overlap: the block lasts attention + experts + dispatch + combine; the step adds the LM head.
  const auto& b = t.breakdown;
  EXPECT_NEAR(t.step_s.mean, b.attention_s + b.routed_experts_s + b.dispatch_s + b.combine_s + b.lm_head_s, 1e-12);
  // Decode: 100 sequences produce 100 tokens per step.
  EXPECT_NEAR(t.tokens_per_s, 100.0 / t.step_s.mean, 1e-6);
}

// With two micro-batches the transfers hide behind compute: the block lasts max(compute, comm), and each
// transfer pays its latency twice (once per micro-batch): comm = 2 * (20 + 204.8) us = 449.6 us < compute.
TEST(RooflineCost, OverlapHidesCommunicationBehindCompute) {
  const ScenarioSpec spec = parse(std::string(kToy) + "\n");
  ScenarioSpec overlapped = spec;
  overlapped.deployment.overlap = true;
  const auto t = simulate(overlapped, builtin_registries()).setups.front().throughput;
  EXPECT_NEAR(t.dispatch_per_layer_s, 224.8e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.exposed_comm_s, 0.0, 1e-15);
  EXPECT_NEAR(t.breakdown.hidden_comm_s, 449.6e-6, 1e-12);
}

TEST(RooflineCost, ADeploymentThatDoesNotFitIsRefusedWithTheLargestBatchThatFits) {
  // DeepSeek-V3 in BF16 on 8 H800: routed experts alone are 58 * 256 * 44.04e6 * 2 B / 8 = 163 GB per GPU.
  try {
    const ScenarioSpec s = parse(
        "model: deepseek-v3\ncluster: {devices: 8, hardware: h800}\nrun: {steps: 1, tokens_per_step: 64}\n"
        "deployment: {phase: decode}\n");
    simulate(s, builtin_registries());
    FAIL() << "expected the memory check to refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.key(), "run.tokens_per_step");
    EXPECT_EQ(e.value(), "64");
    EXPECT_NE(e.problem().find("per device (weights"), std::string::npos) << e.what();
    EXPECT_NE(e.problem().find("over by"), std::string::npos) << e.what();
    EXPECT_NE(e.problem().find("the largest batch that fits is 0 sequences"), std::string::npos) << e.what();
  }
}

TEST(DeploymentConfig, LayoutMustCoverTheDevices) {
  EXPECT_THROW(parse("model: deepseek-v3\ncluster: {devices: 8, hardware: h800}\n"
                     "deployment: {attention: {dp: 4, tp: 4}}\n"),
               Error);
  try {
    parse("model: pangu-pro-moe\ncluster: {devices: 8, hardware: ascend-910b}\ndeployment: {dtypes: {weights: fp8}}\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "t.yaml: deployment.dtypes.weights: hardware 'ascend-910b' has no FP8 support (got 'fp8')");
  }
  try {
    parse("model: pangu-pro-moe\ncluster: {devices: 8}\ndeployment: {phase: decode}\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.key(), "cluster.hardware");
  }
}

}  // namespace
}  // namespace moesim
