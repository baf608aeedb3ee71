// Unit tests of the throughput model's kernels on cases small enough to work out by hand (toy shapes and
// rates in tests/unit/cost_toy.hpp; step-level figures are in test_cost_step.cpp).
#include "cost/all_to_all.hpp"
#include "cost/block.hpp"
#include "cost/layer.hpp"
#include "cost/model_math.hpp"
#include "moesim/config.hpp"
#include "unit/cost_toy.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

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
  // Decode runs kv_b as two absorbed BF16 batched GEMMs (128*128*512 = 8,388,608 parameters each), so five
  // kernels with the same 187,105,280 parameters; q_a + kv_a (11,010,048 + 4,128,768) are replicated under TP.
  const auto g = cost::attention_gemms(m, Phase::decode);
  ASSERT_EQ(g.size(), 5u);
  double p = 0;
  for (const auto& x : g) p += x.params;
  EXPECT_DOUBLE_EQ(p, 187105280.0);
  EXPECT_TRUE(g[2].bf16 && g[3].bf16 && !g[1].bf16);
  EXPECT_DOUBLE_EQ(g[2].params, 8388608.0);
  // Per TP8 rank: 15,138,816 replicated + (187,105,280 - 15,138,816) / 8 = 36,634,624.
  EXPECT_DOUBLE_EQ(cost::attention_params_per_rank(m, 8), 36634624.0);
}

// GQA (Pangu Pro MoE: 40 heads, 8 KV heads, head_dim 128, hidden 5120):
//   q and o 5120*128*40 each, k and v 5120*128*8 each: 5120*128*96 = 62,914,560 per block.
//   KV cache per token and block: 2 * 8 * 128 values; bf16 -> 4096 bytes; split over at most 8 TP ranks.
TEST(ModelMath, GqaAttention) {
  const ModelSpec m = load_model_preset("pangu-pro-moe", kConfigs);
  EXPECT_DOUBLE_EQ(cost::attention_params(m), 62914560.0);
  EXPECT_DOUBLE_EQ(cost::kv_bytes_per_token(m, DType::bf16), 4096.0);
  EXPECT_DOUBLE_EQ(cost::kv_bytes_per_token(m, DType::int8), 2048.0);
  EXPECT_EQ(cost::kv_split(m, 4), 4);
  EXPECT_EQ(cost::kv_split(m, 16), 8);
}

// The GEMM precision (audit bug 3): FP8 weights with BF16 activations are dequantised and multiplied in
// BF16, so they get the BF16 peak and efficiency (toy: 1e12 x 0.5), not the FP8 one (2e12 x 0.5).
TEST(GemmPrecision, EightBitPeakOnlyWhenWeightsAndActivationsAreEightBit) {
  const HardwareSpec h = toy::hardware();
  DeploymentSpec d;
  d.weights = DType::fp8;
  d.activations = DType::bf16;
  EXPECT_DOUBLE_EQ(gemm_peak_flops(h, d), 1e12);
  EXPECT_DOUBLE_EQ(cost::Rates(h, d).gemm_flops, 0.5e12);
  d.activations = DType::fp8;
  EXPECT_DOUBLE_EQ(gemm_peak_flops(h, d), 2e12);
  EXPECT_DOUBLE_EQ(cost::Rates(h, d).gemm_flops, 1e12);
  d.weights = d.activations = DType::int8;  // W8A8
  EXPECT_DOUBLE_EQ(gemm_peak_flops(h, d), 4e12);
  d.activations = DType::bf16;              // W8A16
  EXPECT_DOUBLE_EQ(gemm_peak_flops(h, d), 1e12);
}

// Decode attention core, memory side (audit item 10). DeepSeek-V3 (MLA), 64 sequences at 4096 context on the
// toy hardware (attention 0.5 TFLOP/s, 0.5 TB/s):
//   KV read = 64 x 4096 x 1152 = 301,989,888 B; q and output = 64 x 128 x (128 + 64 + 128) x 2 B = 5,242,880 B;
//   FLOPs = 64 x 278,528 x 4096 = 73,014,444,032 -> 0.146029 s > 307,232,768 B / 0.5e12 = 0.614 ms:
//   at 128 heads sharing one latent, MLA decode is compute-bound on this hardware.
TEST(AttentionCost, MlaDecodeReadsTheLatentCacheOnce) {
  const ModelSpec m = load_model_preset("deepseek-v3", kConfigs);
  DeploymentSpec d;
  d.phase = Phase::decode;
  d.context_length = 4096;
  const CostInput in = toy::input(d, 1, 64, m);
  const cost::Layout L(in);
  const auto a = cost::attention_stage(L, 64, 64);
  EXPECT_DOUBLE_EQ(a.core.bytes, 301989888.0 + 5242880.0);
  EXPECT_DOUBLE_EQ(a.core.flops, 73014444032.0);
  EXPECT_DOUBLE_EQ(a.core.s, 73014444032.0 / 0.5e12);
}

// GQA decode (Pangu Pro MoE, attention TP4, 2048 context, 64 sequences): each rank holds 2 of the 8 KV heads:
//   KV read = 64 x 2048 x 4096 / 4 = 134,217,728 B; q and output = 64 x 2 x 40 x 128 / 4 x 2 B = 327,680 B;
//   FLOPs = 64 x (2 x 40 x 128 x 2048 x 2) / 4 = 671,088,640 -> 1.342 ms; bytes 134,545,408 -> 0.269 ms.
//   An INT8 cache halves the KV bytes: 67,108,864 + 327,680.
TEST(AttentionCost, GqaDecodeSplitsTheCacheOverTensorParallelRanks) {
  const ModelSpec m = load_model_preset("pangu-pro-moe", kConfigs);
  DeploymentSpec d;
  d.phase = Phase::decode;
  d.context_length = 2048;
  d.attention = {1, 4};
  const CostInput in = toy::input(d, 4, 64, m);
  const auto a = cost::attention_stage(cost::Layout(in), 64, 64);
  EXPECT_DOUBLE_EQ(a.core.bytes, 134217728.0 + 327680.0);
  EXPECT_DOUBLE_EQ(a.core.flops, 671088640.0);
  EXPECT_DOUBLE_EQ(a.core.s, 671088640.0 / 0.5e12);
  d.kv_cache = DType::int8;
  const CostInput in8 = toy::input(d, 4, 64, m);
  EXPECT_DOUBLE_EQ(cost::attention_stage(cost::Layout(in8), 64, 64).core.bytes, 67108864.0 + 327680.0);
}

// Routed experts expert by expert (audit gap 5), toy: one expert = 1,572,864 parameters = 3,145,728 B in
// bf16; per token it reads H x 2 + writes 2I x 2, reads I x 2 + writes H x 2 = 7168 B.
//   n = 1000: FLOPs 2 x 1,572,864 x 1000 = 3.145728e9 -> 6.291456 ms (compute-bound; bytes 10,313,728 ->
//             20.6 us);
//   n = 1:    FLOPs 3.145728e6 -> 6.291 us; bytes 3,152,896 -> 6.305792 us (memory-bound: the weights);
//   n = 0:    nothing (an expert with no tokens is not read);
//   SwiGLU over 1001 rows of 512: 1001 x 512 x (4 + 2) B = 3,075,072 B -> 6.150144 us.
// Low-latency kernels deliver the expert-major layout, so there is no permute.
TEST(RoutedCost, EachExpertIsItsOwnRoofline) {
  DeploymentSpec d;
  d.all_to_all = AllToAll::low_latency;
  const CostInput in = toy::input(d, 1, 1000);
  const cost::Layout L(in);
  const cost::Work w = cost::routed_experts(L, {1000.0, 1.0, 0.0});
  EXPECT_NEAR(w.s, 6.291456e-3 + 6.305792e-6 + 6.150144e-6, 1e-15);
  EXPECT_DOUBLE_EQ(w.flops, 2.0 * 1572864.0 * 1001.0);
  // With normal kernels the rows are permuted in (read + write 1024 bf16: 4096 B) and gathered back out
  // (another 4096 B): 2 x 1001 x 4096 B = 8,200,192 B -> 16.400384 us more.
  DeploymentSpec dn;
  dn.all_to_all = AllToAll::normal;
  const CostInput inn = toy::input(dn, 1, 1000);
  EXPECT_NEAR(cost::routed_experts(cost::Layout(inn), {1000.0, 1.0, 0.0}).s - w.s, 16.400384e-6, 1e-15);
}

// Expert tensor parallelism (audit item 10): etp 2 halves each expert's FLOPs and weights per device but
// not the hidden-sized input and output rows: n = 1000, FLOPs 1.572864e9 -> 3.145728 ms.
TEST(RoutedCost, ExpertTensorParallelismSplitsEachExpert) {
  DeploymentSpec d;
  d.all_to_all = AllToAll::low_latency;
  d.experts = {1, 2};
  const CostInput in = toy::input(d, 2, 1000);
  const cost::Work w = cost::routed_experts(cost::Layout(in), {1000.0});
  // SwiGLU: 1000 x 256 x 6 B = 1,536,000 B -> 3.072 us.
  EXPECT_NEAR(w.s, 3.145728e-3 + 3.072e-6, 1e-15);
}

// Shared-expert TP (audit item 10), Pangu Pro MoE W8A8 on 8 devices, 4096 tokens. One shared MLP of 5376:
// P = 3 x 5120 x 5376 = 82,575,360. A group of shared_tp devices serves 4096 x shared_tp / 8 tokens with
// P / shared_tp each, so a device does P x 1024 = 84,557,168,640 FLOPs whatever shared_tp is; the bytes differ:
//   tp 2 (1024 tokens, I' = 2688): weights 41,287,680; gate/up 1024 x (5120 + 2 x 2688 x 2), down
//     1024 x (2688 + 5120 x 2), SwiGLU 1024 x 2688 x 5, input quantisation 1024 x 5120 x 3: 1024 x 57,600
//     = 58,982,400; total 100,270,080 B;
//   tp 8 (4096 tokens, I' = 672): weights 10,321,920; 4096 x (7808 + 10912 + 3360 + 15360) = 153,354,240;
//     total 163,676,160 B.
TEST(SharedCost, SharedExpertsSplitByTheirOwnTensorParallelDegree) {
  const ModelSpec m = load_model_preset("pangu-pro-moe", kConfigs);
  for (int stp : {2, 8}) {
    DeploymentSpec d;
    d.weights = d.activations = DType::int8;
    d.shared_tp = stp;
    const CostInput in = toy::input(d, 8, 4096, m);
    const cost::Work w = cost::shared_experts(cost::Layout(in), 4096.0 * stp / 8);
    EXPECT_DOUBLE_EQ(w.flops, 82575360.0 * 1024.0) << stp;
    EXPECT_DOUBLE_EQ(w.bytes, stp == 2 ? 100270080.0 : 163676160.0) << stp;
  }
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
// inter max(sent 5, received 2) = 5, of which received 2; to itself 7 (free). Rank 2: inter max(0, 5) = 5.
TEST(AllToAll, LowLatencyCountsEveryExpertCopy) {
  BatchLoad L = four_ranks();
  L.pair_assignments[0 * 4 + 1] = 3;
  L.pair_assignments[0 * 4 + 2] = 5;
  L.pair_assignments[3 * 4 + 0] = 2;
  L.pair_assignments[0 * 4 + 0] = 7;
  const auto c = cost::all_to_all_copies(L, 2, AllToAll::low_latency);
  EXPECT_DOUBLE_EQ(c[0].intra, 3);
  EXPECT_DOUBLE_EQ(c[0].inter, 5);
  EXPECT_DOUBLE_EQ(c[0].inter_received, 2);
  EXPECT_DOUBLE_EQ(c[0].self, 7);
  EXPECT_DOUBLE_EQ(c[1].intra, 3);
  EXPECT_DOUBLE_EQ(c[2].inter, 5);
  EXPECT_DOUBLE_EQ(c[2].intra, 0);
  EXPECT_DOUBLE_EQ(c[3].inter, 2);
}

// Normal (DeepEP throughput kernels): 4 tokens on rank 0 each go to ranks 2 and 3 (node 1): the network
// carries them once per node, to rank 0's rail peer on node 1 (rank 2), which forwards the copies for
// rank 3 over the scale-up link. Rank 0: inter sent 4. Rank 2: inter received 4, intra sent 4 (forwarded
// to rank 3). Rank 3: intra received 4, inter 0.
TEST(AllToAll, NormalCrossesTheNetworkOncePerNodeThenForwards) {
  BatchLoad L = four_ranks();
  L.pair_tokens[0 * 4 + 2] = 4;
  L.pair_tokens[0 * 4 + 3] = 4;
  L.pair_node_tokens[0 * 2 + 1] = 4;
  const auto c = cost::all_to_all_copies(L, 2, AllToAll::normal);
  EXPECT_DOUBLE_EQ(c[0].inter, 4);
  EXPECT_DOUBLE_EQ(c[0].intra, 0);
  EXPECT_DOUBLE_EQ(c[2].inter, 4);
  EXPECT_DOUBLE_EQ(c[2].inter_received, 4);
  EXPECT_DOUBLE_EQ(c[2].intra, 4);
  EXPECT_DOUBLE_EQ(c[3].intra, 4);
  EXPECT_DOUBLE_EQ(c[3].inter, 0);
  EXPECT_DOUBLE_EQ(c[1].intra + c[1].inter, 0);
}

// Expert TP per device (audit bug 1): a rank of etp = 8 devices with intra 3, inter 10 (6 received) and 4
// copies to itself. Each device carries 1/8 of the network copies: 10 / 8 = 1.25; every received copy
// is all-gathered to the 7 other devices, and with attention dp (attention tp 1) each device lacks 7/8 of
// the rank's own tokens: intra = 3 + (6 + 4 x 7/8) x 7/8 = 3 + 9.5 x 0.875 = 11.3125. With attention TP8
// the rank's tokens are already on all 8 devices: intra = 3 + 6 x 0.875 = 8.25.
TEST(AllToAll, ExpertTensorParallelismSplitsTheNetworkAndGathersInside) {
  const cost::LinkCopies rank{3, 10, 6, 4};
  const auto dp = cost::device_copies(rank, 8, 1);
  EXPECT_DOUBLE_EQ(dp.inter, 1.25);
  EXPECT_DOUBLE_EQ(dp.intra, 11.3125);
  EXPECT_DOUBLE_EQ(cost::device_copies(rank, 8, 8).intra, 8.25);
  const auto none = cost::device_copies(rank, 1, 1);  // no expert TP: the rank's own counts
  EXPECT_DOUBLE_EQ(none.inter, 10);
  EXPECT_DOUBLE_EQ(none.intra, 3);
}

// Dispatch bytes per token copy (audit bug 4): hidden 7168.
//   FP8 (DeepEP, DeepGEMM 1x128 blocks): 7168 + 4 x 56 fp32 scales = 7392;
//   INT8 (DeepEP-Ascend per-token quantisation): 7168 + one fp32 scale = 7172;  BF16: 14,336.
TEST(AllToAll, ScaleBytesFollowEachQuantisationLayout) {
  EXPECT_DOUBLE_EQ(cost::token_copy_bytes(7168, DType::fp8), 7392.0);
  EXPECT_DOUBLE_EQ(cost::token_copy_bytes(7168, DType::int8), 7172.0);
  EXPECT_DOUBLE_EQ(cost::token_copy_bytes(7168, DType::bf16), 14336.0);
}

// Two micro-batches: attention a = 3, MoE m = 1, dispatch d = 2, combine c = 4 (per micro-batch).
//   no overlap (one micro-batch): a + m + d + c = 10;
//   overlap: max(a, d) + max(m, d) + max(m, c) + max(a, c) = 3 + 2 + 4 + 4 = 13 (for both micro-batches,
//   against 2 x 4 = 8 of compute and 2 x 6 = 12 of transfers);
//   a transfer taking 20% of the compute units: o(3, 2) = 3 + 0.2 x 2 = 3.4 (2 < 3 / 0.8); o(1, 2) = 2;
//   o(1, 4) = 4; o(3, 4) = 4 (4 >= 3.75): 13.4.
TEST(Overlap, EachTransferHidesOnlyBehindTheOtherMicroBatchsNextStage) {
  const cost::StageTimes t{3, 1, 2, 4};
  EXPECT_DOUBLE_EQ(cost::block_wall_s(t, 1, 0), 10);
  EXPECT_DOUBLE_EQ(cost::block_wall_s(t, 2, 0), 13);
  EXPECT_DOUBLE_EQ(cost::block_wall_s(t, 2, 0.2), 13.4);
}

// The embedding lookup is costed (audit gap 6): 50 rows of 1024 bf16 gathered and written,
// 50 x 1024 x 2 x 2 = 204,800 B at 0.5 TB/s = 409.6 ns.
TEST(FixedCost, EmbeddingIsAGatherOfHiddenRows) {
  const CostInput in = toy::input(DeploymentSpec{}, 1, 50);
  const cost::Work w = cost::embedding(cost::Layout(in), 50);
  EXPECT_DOUBLE_EQ(w.bytes, 204800.0);
  EXPECT_DOUBLE_EQ(w.s, 409.6e-9);
}

}  // namespace
}  // namespace moesim
