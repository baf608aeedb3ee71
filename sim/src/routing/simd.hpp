// routing/simd.hpp: run-time choice of the routing kernels (private to src/routing and tests).
//
// The binary targets plain x86-64; the AVX-512 kernels are compiled for that ISA in their own file and
// chosen at run time when the CPU has AVX-512 F/BW/DQ/VL (and AVX2, FMA). Every kernel gives the same
// bits on every path (see fast_math.hpp), so the choice only changes speed.
#pragma once

#include "moesim/model.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace moesim::routing {

enum class SimdLevel { scalar = 0, avx512 = 1 };

// The best level this CPU supports.
SimdLevel detected_simd_level();
// The level the kernels use now: detected_simd_level() unless overridden below.
SimdLevel simd_level();
// Tests only: force a level (clamped to what the CPU supports). Not thread-safe against routing calls.
void set_simd_level_for_testing(SimdLevel level);

// A half-open range of experts [begin, end).
struct Range {
  int begin, end;
};

// Reusable buffers of the top-k kernel: make one per chunk of tokens.
struct TopKScratch {
  explicit TopKScratch(int n) : key(static_cast<size_t>(n) + 16), index(static_cast<size_t>(n) + 16) {}
  std::vector<float> key;      // [experts + 16] candidate keys
  std::vector<int32_t> index;  // [experts + 16] candidate expert ids
};

// The kernels of one level. Shapes: key / x [experts], idx [k], score [groups].
struct Kernels {
  // Top k of key over the experts of ranges (ascending, disjoint), best first (higher key, then lower
  // index), into idx (k <= experts in ranges). Returns the largest key of the ranges (-inf if empty).
  float (*topk)(const float* key, const Range* ranges, int n_ranges, int k, int32_t* idx, TopKScratch& scratch);
  // sum_e exp_f32(x[e] - m) in the lane order of fast_math.hpp; e_out[e] = exp_f32(x[e] - m) if not null.
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
  // fp32(fp64(exp_f32(x - m)) / sum) with m the row max and sum = exp_sum(x, n, m).
  void (*scores_at)(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double sum, float* w);
  // For each of `rows` consecutive rows of x ([rows, n]): topk over all n experts, then scores_at with
  // softmax (m the row max, sum = exp_sum(x, n, m)) into idx, w ([rows, k]); fused, several rows
  // interleaved where the level allows: the same bits as those calls row by row.
  void (*topk_softmax)(const float* x, int n, int rows, int k, int32_t* idx, float* w, TopKScratch& scratch);
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
inline constexpr int kPrefetchRows = 4;

}  // namespace moesim::routing
