// Step-level figures of the throughput model, worked out by hand on the toy model and hardware of
// tests/unit/cost_toy.hpp (run through the simulator from an inline scenario), plus the deployment checks.
#include "cost/memory.hpp"
#include "cost/training.hpp"
#include "moesim/config.hpp"
#include "moesim/simulator.hpp"
#include "moesim/validation.hpp"
#include "report/scenario_json.hpp"
#include "report/throughput_report.hpp"
#include "unit/cost_toy.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

ScenarioSpec parse(const std::string& yaml) {
  LoadOptions opt;
  opt.preset_dirs = kConfigs;
  return parse_scenario(yaml, "t.yaml", opt, builtin_registries());
}

// The toy of cost_toy.hpp as a scenario: 2 devices, one per node, 2 experts, top-2 (every token goes to both
// experts), `tokens` tokens per step; tokens 0..tokens/2-1 start on device 0.
std::string toy_yaml(const std::string& deployment, int tokens = 100, int devices = 2, int per_node = 1,
                     const std::string& link = "1e9", int layers = 1) {
  return R"(
model: {name: toy, num_layers: )" + std::to_string(layers) + R"(, hidden: 1024, vocab: 1000, attention: gqa, num_heads: 8, num_kv_heads: 8,
        head_dim: 128, num_experts: 2, top_k: 2, moe_intermediate: 512, scoring: softmax, router: topk}
cluster:
  devices: )" + std::to_string(devices) + R"(
  devices_per_node: )" + std::to_string(per_node) + R"(
  hardware:
    name: toy
    description: round numbers
    source: none
    nominal: {flops_bf16: 1e12, flops_fp8: 2e12, flops_int8: 4e12, memory_bytes: 1e9, memory_bandwidth: 1e12,
              devices_per_node: 1, scale_up: {name: u, bandwidth: )" + link + R"(, latency: 0},
              scale_out: {name: o, bandwidth: )" + link + R"(, latency: 0}}
    calibrated:
      gemm: {value: 0.5, source: t}
      gemm_8bit: {value: 0.5, source: t}
      grouped_gemm: {value: 1, source: t}
      attention: {value: 0.5, source: t}
      memory: {value: 0.5, source: t}
      scale_up: {value: 0.5, source: t}
      scale_out: {value: 0.5, source: t}
      scale_up_low_latency: {value: 0.5, source: t}
      all_to_all_latency: {value: 10e-6, source: t}
      collective_latency: {value: 0, source: t}
      comm_compute_share: {value: 0, source: t}
      kernel_latency: {value: 0, source: t}
      step_overhead: {value: 0, source: t}
    price: {usd_per_hour: 1, source: t, date: "2026"}
run: {steps: 3, tokens_per_step: )" + std::to_string(tokens) + R"(, seed: 1}
router: {name: topk, k: 2}
placement: {name: contiguous}
deployment: )" + deployment + "\n";
}

ThroughputResult run(const std::string& yaml) {
  return simulate(parse(yaml), builtin_registries()).setups.front().throughput;
}

// Dispatch per device: 50 tokens cross to the other node once each, 1024 bf16 values = 2048 bytes:
//   10 us + 50 x 2048 B / (1e9 B/s x 0.5) = 10 + 204.8 = 214.8 us; combine the same (bf16).
// Routed experts per device: 100 assignments to its one expert, 2 x 1,572,864 x 100 = 314.57 MFLOP at
//   0.5 TFLOP/s = 629.1456 us; bytes 3,145,728 + 100 x 7168 = 3.86 MB -> 7.7 us: compute-bound; the SwiGLU
//   100 x 512 x 6 B = 307,200 B -> 0.6144 us, and the normal kernels' permute in and gather out
//   2 x 100 x 4096 B -> 1.6384 us. Both devices are equally loaded: nothing is lost to imbalance.
TEST(StepCost, ToyDeploymentByHand) {
  const ThroughputResult t = run(toy_yaml("{phase: decode, context_length: 1, all_to_all: normal}"));
  ASSERT_TRUE(t.enabled);
  EXPECT_NEAR(t.dispatch_per_layer_s, 214.8e-6, 1e-12);
  EXPECT_NEAR(t.combine_per_layer_s, 214.8e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.routed_experts_s, 629.1456e-6 + 0.6144e-6 + 1.6384e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.imbalance_s, 0.0, 1e-15);
  // No overlap: the block lasts its compute parts + dispatch + combine; the step adds embedding and LM head.
  const auto& b = t.breakdown;
  EXPECT_NEAR(t.step_s.mean, b.attention_s + b.routed_experts_s + b.router_s + b.dispatch_s + b.combine_s +
                                 b.embedding_s + b.lm_head_s, 1e-12);
  EXPECT_GT(b.embedding_s, 0.0);
  // Decode: 100 sequences produce 100 tokens per step; one device per node: 2 nodes.
  EXPECT_NEAR(t.tokens_per_s, 100.0 / t.step_s.mean, 1e-6);
  EXPECT_NEAR(t.tokens_per_s_per_node, t.tokens_per_s / 2.0, 1e-6);
}

// With two micro-batches each transfer carries half the copies (25) and pays the latency once per
// micro-batch. On a 1e11 B/s link: 10 + 25 x 2048 / 5e10 = 11.024 us, 22.048 us per layer. Each transfer
// is shorter than the stage beside it (the attention stage of 25 tokens: qkv 2 x 3,145,728 x 25 = 157.3 MFLOP
// -> 314.6 us, o 104.9 us), so nothing is exposed and all four transfers (44.096 us) are hidden; so on the
// 1e9 B/s link (112.4 us each). On a 1e7 B/s link a transfer takes 10 + 10,240 us: most of it is exposed.
TEST(StepCost, OverlapHidesCommunicationBehindCompute) {
  const std::string d = "{phase: decode, context_length: 1, all_to_all: normal, overlap: true}";
  const ThroughputResult t = run(toy_yaml(d, 100, 2, 1, "1e11"));
  EXPECT_NEAR(t.dispatch_per_layer_s, 22.048e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.exposed_comm_s, 0.0, 1e-15);
  EXPECT_NEAR(t.breakdown.hidden_comm_s, 44.096e-6, 1e-12);
  const ThroughputResult mid = run(toy_yaml(d));
  EXPECT_NEAR(mid.dispatch_per_layer_s, 224.8e-6, 1e-12);
  EXPECT_NEAR(mid.breakdown.exposed_comm_s, 0.0, 1e-15);
  const ThroughputResult slow = run(toy_yaml(d, 100, 2, 1, "1e7"));
  EXPECT_NEAR(slow.dispatch_per_layer_s, 2 * 10250e-6, 1e-9);
  EXPECT_GT(slow.breakdown.exposed_comm_s, 4 * 10250e-6 - 2 * (420.25e-6 + 400e-6));
}

// MFU counts the model's FLOPs, however many micro-batches carry them: with overlap the step runs as two
// micro-batches of 50 tokens, each doing half the routed-expert work, so the FLOPs per step (mfu x step
// time x 2 devices x 1e12 FLOP/s) must equal those of the single-batch step. Routed experts alone are
// 2 devices x 100 assignments x 2 x 1,572,864 FLOP = 629,145,600 FLOP of them.
TEST(StepCost, UtilisationCountsEveryMicroBatch) {
  const auto flops = [](const ThroughputResult& t) { return t.mfu * t.step_s.mean * 2.0 * 1e12; };
  const ThroughputResult one = run(toy_yaml("{phase: decode, context_length: 1, overlap: false}"));
  const ThroughputResult two = run(toy_yaml("{phase: decode, context_length: 1, overlap: true}"));
  EXPECT_NEAR(flops(two), flops(one), 1e-6 * flops(one));
  EXPECT_GT(flops(one), 629145600.0);
}

// MBU counts every byte the step moves, KV-cache reads included (audit bug 2). Going from context 1 to 101
// adds, per device, 50 sequences x 100 more cached tokens x 4096 B = 20,480,000 B of KV reads, and nothing
// else: 40,960,000 B for the two devices. bytes = mbu x step time x devices x nominal bandwidth.
TEST(StepCost, BandwidthUtilisationCountsKvCacheReads) {
  const auto bytes = [](const ThroughputResult& t) { return t.mbu * t.step_s.mean * 2.0 * 1e12; };
  const ThroughputResult a = run(toy_yaml("{phase: decode, context_length: 1}"));
  const ThroughputResult b = run(toy_yaml("{phase: decode, context_length: 101}"));
  EXPECT_NEAR(bytes(b) - bytes(a), 40960000.0, 1.0);
}

// Multi-token prediction (audit item 10): one draft per sequence at acceptance 0.5, 100 tokens per step =
// 50 sequences x 2. A step yields 50 x 1.5 = 75 tokens, TPOT = step / 1.5; the draft costs one more MoE block
// (mtp_s = the block's wall time, the only simulated block), and each sequence reads its cache once for
// both of its tokens: 25 sequences per device x 101 x 4096 B.
TEST(StepCost, MultiTokenPredictionAddsABlockAndSharesTheCacheRead) {
  const ThroughputResult t = run(toy_yaml("{phase: decode, context_length: 101, mtp: {tokens: 1, acceptance: 0.5}}"));
  EXPECT_DOUBLE_EQ(t.output_tokens_per_step, 75.0);
  EXPECT_NEAR(t.tpot_s, t.step_s.mean / 1.5, 1e-15);
  const auto& b = t.breakdown;
  EXPECT_NEAR(b.mtp_s, t.step_s.mean - b.mtp_s - b.embedding_s - b.lm_head_s, 1e-12);
  DeploymentSpec d;
  d.phase = Phase::decode;
  d.context_length = 101;
  d.attention = {2, 1};
  d.mtp_tokens = 1;
  const CostInput in = toy::input(d, 2, 100);
  const cost::Layout L(in);
  EXPECT_DOUBLE_EQ(L.seqs_rank, 25.0);
  const double io = 50.0 * 2 * 8 * 128 * 2.0;  // q and output of 50 tokens
  EXPECT_DOUBLE_EQ(cost::attention_stage(L, 50, 25).core.bytes, 25.0 * 101 * 4096 + io);
}

// The largest batch that fits (audit item 10), toy decode at context 1 on 1e9 bytes per device:
//   weights: attention 4,194,304 + one expert 1,572,864 + router 2,048 + embedding and LM head 2 x 1,024,000
//   = 7,817,216 parameters x 2 B = 15,634,432 B;
//   one sequence: KV (1 + 1) x 4096 = 8192 B + live activations (10 x 1024 + 2 x 1024) x 2 = 24,576 B = 32,768 B;
//   (1e9 - 15,634,432) / 32,768 = 30,040.45 -> 30,040 per data-parallel rank, x 2 ranks = 60,080 sequences.
TEST(StepCost, LargestBatchThatFits) {
  const ThroughputResult t = run(toy_yaml("{phase: decode, context_length: 1}"));
  EXPECT_DOUBLE_EQ(t.memory.weights, 15634432.0);
  EXPECT_EQ(t.memory.max_batch, 60080);
}

// Cost per token, by phase (audit item 13): 2 devices at $1/h. Decode: output tokens only; prefill: input.
TEST(StepCost, CostPerMillionInputAndOutputTokensByPhase) {
  const ThroughputResult d = run(toy_yaml("{phase: decode, context_length: 1}"));
  EXPECT_NEAR(d.usd_per_million_output_tokens, 2.0 / (d.tokens_per_s * 3600.0) * 1e6, 1e-12);
  EXPECT_EQ(d.usd_per_million_input_tokens, 0.0);
  const ThroughputResult p = run(toy_yaml("{phase: prefill, context_length: 50}"));
  EXPECT_NEAR(p.usd_per_million_input_tokens, 2.0 / (p.tokens_per_s * 3600.0) * 1e6, 1e-12);
  EXPECT_EQ(p.usd_per_million_output_tokens, 0.0);
}

// Dense models split attention from FFN (audit gap 6): Qwen2.5-32B on the toy hardware, prefill.
TEST(StepCost, DenseBlocksReportAttentionAndFfnApart) {
  const std::string yaml = toy_yaml("{phase: prefill, context_length: 64}", 128);
  ScenarioSpec s = parse(yaml);
  s.model = load_model_preset("qwen2.5-32b", kConfigs);
  s.hardware.memory_bytes = 1e12;
  const ThroughputResult t = simulate(s, builtin_registries()).setups.front().throughput;
  const auto& b = t.breakdown;
  EXPECT_GT(b.dense_attention_s, 0.0);
  EXPECT_GT(b.dense_ffn_s, b.dense_attention_s);  // 64-token prompts: the FFN's 3 x 5120 x 27648 weights dominate
  EXPECT_DOUBLE_EQ(b.dense_layers_s, b.dense_attention_s + b.dense_ffn_s);
  EXPECT_NEAR(t.step_s.mean, b.dense_layers_s + b.embedding_s + b.lm_head_s, 1e-12);
}

// Training (audit item 12), the toy on 2 devices, ZeRO-1 over both:
//   a device holds 6,244,352 replicated parameters (attention 4,194,304, router 2,048, embedding and LM head
//   2,048,000) and one expert (1,572,864): 7,817,216;
//   memory: bf16 weights 15,634,432 B, fp32 gradients 31,268,864 B, master weights + moments 12 B x
//   (6,244,352 / 2 + 1,572,864) = 56,340,480 B;
//   AdamW updates 3,122,176 + 1,572,864 = 4,695,040 parameters x 30 B = 140,851,200 B -> 281.7024 us;
//   gradient sync (ZeRO-1: reduce-scatter fp32 + all-gather bf16 over 2 ranks in one node, 0.5 GB/s):
//   1/2 x 6,244,352 x 6 B = 18,733,056 B -> 37.466112 ms.
TEST(TrainingCost, OptimizerGradientsAndStatesByHand) {
  const ThroughputResult t = run(toy_yaml("{phase: training, context_length: 50, training: {zero_shards: 2}}", 100, 2, 2));
  EXPECT_DOUBLE_EQ(t.memory.weights, 15634432.0);
  EXPECT_DOUBLE_EQ(t.memory.gradients, 31268864.0);
  EXPECT_DOUBLE_EQ(t.memory.optimizer, 56340480.0);
  EXPECT_NEAR(t.breakdown.optimizer_s, 281.7024e-6, 1e-12);
  EXPECT_NEAR(t.breakdown.grad_sync_s, 37.466112e-3, 1e-12);
  EXPECT_NEAR(t.breakdown.exposed_grad_sync_s, t.breakdown.grad_sync_s, 1e-15);  // no overlap: all exposed
  // 100 tokens per step, 2 devices at $1/h.
  EXPECT_NEAR(t.usd_per_trillion_training_tokens, 2.0 / (t.tokens_per_s * 3600.0) * 1e12, 1e-6);
}

// Link rates are the forward transfers' bytes over their time, whatever the backward sends. Training with
// an fp8 dispatch: per device 50 tokens x (1024 fp8 values + 8 fp32 scales, one per 128) = 52,800 B to the
// other node in 10 us + 52,800 B / (1e9 x 0.5 B/s) = 115.6 us, 456.7 MB/s; the backward's bf16 gradients
// (2048 B per token, 214.8 us) must not enter it. Combine stays bf16: 102,400 B in 214.8 us.
TEST(TrainingCost, LinkRatesAreTheForwardTransfers) {
  const ThroughputResult t = run(toy_yaml("{phase: training, context_length: 50, dtypes: {dispatch: fp8}}"));
  EXPECT_NEAR(t.dispatch_scale_out_bytes_per_s, 52800.0 / 115.6e-6, 1e-3);
  EXPECT_NEAR(t.combine_scale_out_bytes_per_s, 102400.0 / 214.8e-6, 1e-3);
}

// The backward pass: 2x each GEMM's forward (input and weight gradients), so a block's routed experts cost 3x
// their forward in training; full recomputation adds one more forward (4x).
TEST(TrainingCost, BackwardIsTwiceTheForwardAndRecomputationOnceMore) {
  const ThroughputResult p = run(toy_yaml("{phase: prefill, context_length: 50}"));
  const ThroughputResult t = run(toy_yaml("{phase: training, context_length: 50}"));
  const ThroughputResult r = run(toy_yaml("{phase: training, context_length: 50, training: {recompute: full}}"));
  EXPECT_NEAR(t.breakdown.routed_experts_s, 3.0 * p.breakdown.routed_experts_s, 1e-12);
  EXPECT_NEAR(r.breakdown.routed_experts_s, 4.0 * p.breakdown.routed_experts_s, 1e-12);
  EXPECT_NEAR(t.breakdown.forward_s + t.breakdown.backward_s + t.breakdown.optimizer_s + t.breakdown.exposed_grad_sync_s,
              t.step_s.mean, 1e-12);
  // Model FLOPs do not count recomputation: same MFU numerator.
  EXPECT_NEAR(r.mfu * r.step_s.mean, t.mfu * t.step_s.mean, 1e-12);
}

// Pipeline stages (the toy with 4 blocks): 4 stages and 8 micro-batches. The simulated devices stand for each stage; the step runs
// 8 micro-batches of compute C plus (4 - 1) slots of 1F1B bubble, over 4 x 2 devices:
//   step = C x (8 + 3) / 4 + optimizer + gradient sync.
TEST(TrainingCost, PipelineBubbleAndDevices) {
  const ThroughputResult one = run(toy_yaml("{phase: training, context_length: 50}", 100, 2, 1, "1e9", 4));
  const ThroughputResult pp = run(toy_yaml("{phase: training, context_length: 50, training: {pipeline_stages: 4, micro_batches: 8}}",
                                           100, 2, 1, "1e9", 4));
  const double c = one.step_s.mean - one.breakdown.optimizer_s - one.breakdown.exposed_grad_sync_s;
  const double extra = pp.breakdown.optimizer_s + pp.breakdown.exposed_grad_sync_s;
  EXPECT_NEAR(pp.step_s.mean, c * 11.0 / 4.0 + extra, 1e-12);
  EXPECT_NEAR(pp.breakdown.pipeline_bubble_s, c * 3.0 / 4.0, 1e-12);
  EXPECT_NEAR(pp.tokens_per_s_per_device, 800.0 / pp.step_s.mean / 8.0, 1e-9);
}

TEST(StepCost, ADeploymentThatDoesNotFitIsRefusedWithTheLargestBatchThatFits) {
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

TEST(DeploymentConfig, TrainingKeysNeedTheTrainingPhase) {
  try {
    parse("model: pangu-pro-moe\ncluster: {devices: 8, hardware: ascend-910b}\n"
          "deployment: {phase: decode, training: {zero_shards: 2}}\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "t.yaml: deployment.training: applies to phase: training only (got 'decode')");
  }
  try {
    parse("model: pangu-pro-moe\ncluster: {devices: 8, hardware: ascend-910b}\n"
          "deployment: {phase: training, training: {recompute: some}}\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.key(), "deployment.training.recompute");
  }
}

TEST(HardwareConfig, ComputeShareMustLeaveSomeCompute) {
  try {
    parse("model: pangu-pro-moe\ncluster: {devices: 8, hardware: {preset: h800, calibrated: {comm_compute_share: {value: 1}}}}\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.key(), "cluster.hardware.calibrated.comm_compute_share.value");
    EXPECT_EQ(e.value(), "1");
  }
}

// Nominal and calibrated numbers are both visible (audit item 8): the resolved scenario's JSON carries the
// hardware (nominal, every calibrated value with its source, what they make achievable, the price) and the
// deployment; `moesim list hardware --detail` prints the same for people.
TEST(HardwareVisibility, ScenarioJsonEchoesHardwareAndDeployment) {
  const ScenarioSpec s = parse("model: deepseek-v3\ncluster: {devices: 128, hardware: h800}\n"
                               "deployment: {phase: decode, dtypes: {weights: fp8, activations: fp8}}\n");
  const auto j = to_json(s);
  const auto& h = j["cluster"]["hardware"];
  EXPECT_EQ(h["name"], "h800");
  EXPECT_DOUBLE_EQ(h["nominal"]["flops_fp8"].get<double>(), 1979e12);
  EXPECT_DOUBLE_EQ(h["nominal"]["memory_bytes"].get<double>(), 85.52e9);  // 81,559 MiB as the driver exposes it
  EXPECT_NE(h["calibrated"]["gemm_8bit"]["source"].get<std::string>().find("DeepGEMM"), std::string::npos);
  // achievable = nominal x calibrated: 1979e12 x 0.445 = 880.655e12 FLOP/s.
  EXPECT_DOUBLE_EQ(h["achievable"]["gemm_fp8_flops"].get<double>(), 1979e12 * 0.445);
  EXPECT_DOUBLE_EQ(h["price"]["usd_per_hour"].get<double>(), 2.0);
  EXPECT_EQ(j["deployment"]["phase"], "decode");
  EXPECT_EQ(j["deployment"]["dtypes"]["weights"], "fp8");
  EXPECT_EQ(j["deployment"]["all_to_all"], "low_latency");  // auto at decode
  std::ostringstream os;
  write_hardware_detail(s.hardware, os);
  EXPECT_NE(os.str().find("gemm_8bit"), std::string::npos);
  EXPECT_NE(os.str().find("-> 881 TFLOP/s FP8"), std::string::npos) << os.str();
  // Without a deployment the document keeps its keys.
  const auto plain = to_json(parse("model: deepseek-v3\ncluster: {devices: 128, hardware: h800}\n"));
  EXPECT_FALSE(plain.contains("deployment"));
  EXPECT_FALSE(plain["cluster"].contains("hardware"));
}

// A known miss is accepted only at its recorded error (within 5 points); anything else still fails.
TEST(Validation, KnownMissesAreAcceptedOnlyAtTheirRecordedError) {
  ValidationRow r;
  r.tolerance = 0.15;
  r.error = -0.49;
  EXPECT_FALSE(r.accepted());
  r.known_miss = true;
  r.miss_error = -0.49;
  EXPECT_TRUE(r.accepted());
  r.error = -0.40;  // moved by 9 points: someone changed the model; look again
  EXPECT_FALSE(r.accepted());
}

}  // namespace
}  // namespace moesim
