// routing/simd.hpp: run-time choice of the routing kernels (private to src/routing and tests).
//
// The binary targets plain x86-64; the AVX-512 kernels are compiled for that ISA in their own file and
// chosen at run time when the CPU has AVX-512 F/BW/DQ/VL (and AVX2, FMA). Every kernel gives the same
// bits on every path (see fast_math.hpp), so the choice only changes speed.
#pragma once

#include "moesim/model.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace moesim::routing {

enum class SimdLevel { scalar = 0, avx512 = 1 };

// The best level this CPU supports.
SimdLevel detected_simd_level();
// The level the kernels use now: detected_simd_level() unless overridden below.
SimdLevel simd_level();
// Tests only: force a level (clamped to what the CPU supports). Not thread-safe against routing calls.
void set_simd_level_for_testing(SimdLevel level);

// How the AVX-512 group-limited kernel lists a row's candidates (the same bits either way): as bit masks
// and one gather per row, or each kept vector's candidates compressed into place (two compresses and two
// expands per vector). Measured on the DeepSeek-V3 shape, BM_Route/group_limited_256_8: on the Intel
// host (Emerald Rapids), where each compress or expand takes two cycles of port 5, the gather was
// faster (stop 11, 9d7a496); on the AMD host (Zen 5), where they are cheap, compressing is 5-7% faster
// (bench/README.md, after run H). So: compress on AMD CPUs, gather elsewhere.
enum class CandidateListing { gather = 0, compress = 1 };
// The listing the kernel uses now: by CPU vendor unless overridden below.
CandidateListing candidate_listing();
// Tests only: force a listing (nullopt: back to the vendor's). Not thread-safe against routing calls.
void set_candidate_listing_for_testing(std::optional<CandidateListing> listing);

// How the fused AVX-512 kernels (top-k with softmax, MoGE, group-limited) ask for the rows they read
// next, one line per vector they load (results never depend on it): into L1 one or two blocks of R rows
// ahead (PREFETCHT0), or into L2 eight blocks ahead (PREFETCHT1). On the Zen 4 host (AMD family 25),
// BM_Route from DRAM in paired rounds against L1 (bench/README.md, run R): group-limited 1.30x / 1.22x
// (fixed / random layout), MoGE 256 1.43x / 1.22x, top-k 1.17x / 1.08x, MoGE 64 1.03x / 0.94x; on the Zen 5
// host (family 26) an L2 prefetch one block ahead was 6% slower (stop 13), and the Intel host was tuned
// with L1 prefetches. So: L2 on AMD family 25, L1 elsewhere.
enum class RowPrefetch { l1_near = 0, l2_far = 1 };
// The policy the kernels use: by CPU family unless overridden below.
RowPrefetch row_prefetch();
// Benchmarks and tests only: force a policy (nullopt: back to the CPU's). Not thread-safe against routing
// calls.
void set_row_prefetch_for_testing(std::optional<RowPrefetch> policy);

// A half-open range of experts [begin, end).
struct Range {
  int begin, end;
};

// Reusable buffers of the top-k kernels: make one per chunk of tokens.
struct TopKScratch {
  explicit TopKScratch(int n)
      : key(static_cast<size_t>(n) * kRowsPerBlock + 64), index(static_cast<size_t>(n) + 64),
        score(static_cast<size_t>(n) * kRowsPerBlock + 64) {}
  static constexpr int kRowsPerBlock = 4;  // rows a fused kernel keeps in flight
  std::vector<float> key;      // [4 rows, experts + pad] candidate or selection keys
  std::vector<int32_t> index;  // [experts + pad] candidate expert ids
  std::vector<float> score;    // [4 rows, experts + pad] scores
};

// The fused group-limited kernel's problem (DeepSeek-V3 Gate with sigmoid scores, DeepSeek-V2's with
// softmax; group_limited.cpp).
struct GroupLimitedShape {
  int n = 0, groups = 0, per_group = 0, keep = 0, k = 0;  // experts, groups, experts per group, groups kept, top-k
  bool top2 = false;                                   // group score: top-2 sum (else max) of the keys
  const float* bias = nullptr;                         // [n] selection bias, or null
  bool normalize = false;                              // the weights as finish_weights leaves them
  double scaling = 1.0;
  bool softmax = false;  // scores softmax over all n experts (then no bias and no top2: keys are the logits); else sigmoid
};

// The shapes on which the AVX-512 group-limited kernel is fast (it gives the same bits on any shape, via
// the scalar kernel): groups of a multiple of 16 experts, at most 16 groups, 256 experts and k = 16.
inline bool group_limited_fast_shape(const GroupLimitedShape& s) {
  return s.per_group % 16 == 0 && s.groups >= 1 && s.groups <= 16 && s.n == s.groups * s.per_group && s.n <= 256 &&
         s.k <= 16;
}

// The kernels of one level. Shapes: key / x [experts], idx [k], score [groups]; fused kernels take `rows`
// consecutive rows of x ([rows, n]) and write [rows, k] (or [rows, groups]) outputs.
struct Kernels {
  // Top k of key over the experts of ranges (ascending, disjoint), best first (higher key, then lower
  // index), into idx (k <= experts in ranges). Returns the largest key of the ranges (-inf if empty).
  float (*topk)(const float* key, const Range* ranges, int n_ranges, int k, int32_t* idx, TopKScratch& scratch);
  // The softmax denominator of x (row max m) in the order of fast_math.hpp; e_out[e] = softmax_term(x[e], m)
  // if e_out is not null.
  double (*exp_sum)(const float* x, int n, float m, float* e_out);
  // s[e] = sigmoid_f32(x[e]).
  void (*sigmoid)(const float* x, int n, float* s);
  // s[e] = sigmoid_f32(x[e]) and key[e] = s[e] + bias[e] (fp32), in one pass.
  void (*sigmoid_bias)(const float* x, const float* bias, int n, float* s, float* key);
  // score[g] = max of the group's keys, or with top2 the fp32 sum of its two largest (ties count twice).
  void (*group_scores)(const float* key, int groups, int per_group, bool top2, float* score);
  // idx[g] = the best expert of each group of per_group consecutive experts (tie -> lower).
  void (*group_top1)(const float* key, int n, int per_group, int32_t* idx);
  // w[s] = score of expert idx[s] (s < k) as score_row computes it: sigmoid_f32(x), or for softmax
  // fp32(fp64(softmax_term(x, m)) * inv) with m the row max and inv = 1 / exp_sum(x, n, m).
  void (*scores_at)(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double inv, float* w);
  // Plain top-k with softmax weights: per row, topk over all n experts, then scores_at (softmax), then
  // finish_weights (routing_common.hpp) with normalize and scaling.
  void (*topk_softmax)(const float* x, int n, int rows, int k, bool normalize, double scaling, int32_t* idx, float* w,
                       TopKScratch& scratch);
  // MoGE with one expert per group and no bias: per row, idx = group_top1 of the logits ([rows, groups]),
  // w = their softmax weights (scores_at).
  void (*group_top1_softmax)(const float* x, int n, int rows, int per_group, int32_t* idx, float* w);
  // Group-limited routing with sigmoid scores s = sigmoid_f32(x) (DeepSeek-V3), or with shape.softmax
  // softmax scores (scores_at's, over all n experts; DeepSeek-V2): keys = s + bias (s when bias is null)
  // if bias or top2, else the logits; the `keep` best groups by group_scores (higher, then lower group);
  // the top k keys of their experts into idx; w = s there, then finish_weights (routing_common.hpp) with
  // the shape's normalize and scaling.
  void (*group_limited)(const float* x, int rows, const GroupLimitedShape& shape, int32_t* idx, float* w,
                        TopKScratch& scratch);
};

const Kernels& scalar_kernels();
const Kernels& avx512_kernels();  // only call when detected_simd_level() == avx512
// The kernels of simd_level().
const Kernels& kernels();

// Asks for the cache lines of x[0, n) ahead of use (the hardware prefetcher alone keeps up poorly with
// row-by-row streaming on virtual machines): routers call it a few rows ahead.
inline void prefetch_row(const float* x, int n) {
  for (int i = 0; i < n; i += 16) __builtin_prefetch(x + i, 0, 3);
}
inline constexpr int kPrefetchRows = 8;

}  // namespace moesim::routing
