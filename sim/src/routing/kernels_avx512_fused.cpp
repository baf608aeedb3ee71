// routing/kernels_avx512_fused.cpp: the fused AVX-512 kernel of plain top-k with softmax (simd.hpp,
// Kernels::topk_softmax; MoGE's and group-limited routing's are in kernels_avx512_moge.cpp and
// kernels_avx512_grouped.cpp), bit-identical to kernels_scalar.cpp. It handles R rows at once, stage by
// stage, so that the long dependency chains of different rows overlap; rows whose shape or values it
// does not cover go to the plain kernels.
#include "routing/avx512_select.hpp"  // first: it opens the AVX-512 pragma region closed at the end

namespace moesim::routing {

namespace {

using namespace avx512;

// Row max and top-k threshold of R rows (n % 16 == 0): m[r], t[r] (lane_threshold of the lane maxima),
// both read from the sorted lane maxima (the largest is the row max; for the softmax terms only its
// value counts, not the sign of a zero: x - m and x == m give the same for m = -0 and +0).
template <int R>
inline bool max_and_threshold(const float* x, int n, int k, float* m, float* t) {
  bool finite = true;
  for (int r = 0; r < R; ++r) {
    const float* xr = x + r * n;
    __m512 a = _mm512_loadu_ps(xr), b = _mm512_set1_ps(-kInf);
    for (int i = 16; i < n; i += 32) {  // two chains
      a = _mm512_max_ps(a, _mm512_loadu_ps(xr + i));
      if (i + 16 < n) b = _mm512_max_ps(b, _mm512_loadu_ps(xr + i + 16));
    }
    alignas(64) float sorted[16];
    _mm512_store_ps(sorted, sort16(_mm512_max_ps(a, b)));
    m[r] = sorted[15];
    t[r] = sorted[16 - k];
    finite = finite && std::isfinite(m[r]);
  }
  return finite;
}

// Top k of softmax, R rows, n % 16 == 0, n <= 256, k <= 16, finite row maxima. Pass 1: row max and
// threshold. Pass 2: softmax denominator (one 256-expert block of fast_math.hpp: pairwise fp32 lane
// sums, then one fp64 fold) and the candidates >= t as bit masks. Then per row the candidate experts in
// a register, best first (order_best_first), and their weights (for k <= 8 two rows in one register).
// kN, kK: the shape as compile-time constants (0: n and k as given), so that the compiler unrolls the
// loops over vectors and quarters (topk_softmax_avx512 lists the shapes). kL2: RowPrefetch::l2_far.
template <int R, int kN = 0, int kK = 0, bool kL2 = false>
void topk_softmax_rows(const float* x, int n_given, int k_given, bool normalize, double scaling, int32_t* idx, float* w,
                       TopKScratch& scratch) {
  const int n = kN != 0 ? kN : n_given, k = kK != 0 ? kK : k_given;
  float m[R], t[R];
  if (!max_and_threshold<R>(x, n, k, m, t)) {  // an infinite row max: the limit rule, rare
    scalar_kernels().topk_softmax(x, n, R, k, normalize, scaling, idx, w, scratch);
    return;
  }
  QuarterSums sum[R];
  uint64_t sel[R][4];
  const int blocks = (n + 63) / 64;  // quarters of the sum's block, and words of sel
  for (int q = 0; q < blocks; ++q) {
    const int nv = (n - 64 * q) / 16 < 4 ? (n - 64 * q) / 16 : 4;
    __m512 e[R][4];
    uint64_t bits[R] = {};
    for (int j = 0; j < nv; ++j)
      for (int r = 0; r < R; ++r) {
        const __m512 v = _mm512_loadu_ps(x + r * n + 64 * q + 16 * j);
        prefetch_next<kL2>(x + (r + 2 * R) * n + 64 * q + 16 * j, x + (r + kFarBlocks * R) * n + 64 * q + 16 * j);
        e[r][j] = exp16_le0(_mm512_sub_ps(v, _mm512_set1_ps(m[r])));
        bits[r] |= static_cast<uint64_t>(_mm512_cmp_ps_mask(v, _mm512_set1_ps(t[r]), _CMP_GE_OQ)) << (16 * j);
      }
    for (int r = 0; r < R; ++r) {
      sel[r][q] = bits[r];
      sum[r].add(q, block_sum(e[r], nv));
    }
  }
  Candidates cand[R];
  for (int r = 0; r < R; ++r) cand[r] = gather_candidates(x + r * n, sel[r], blocks);
  order_best_first<R>(cand);
  const __mmask16 out = first_lanes(static_cast<unsigned>(k));
  __m512 kv[R];  // the chosen experts' logits, best first (lanes >= k: anything)
  double inv[R];
  for (int r = 0; r < R; ++r) {
    const float* xr = x + r * n;
    inv[r] = 1.0 / sum_f64(sum[r].total(blocks - 1));
    if (cand[r].c <= 16) {
      kv[r] = cand[r].ck;
      _mm512_mask_storeu_epi32(idx + r * k, out, cand[r].ci);
    } else {  // many candidates (ties, extreme rows): sorted insertion
      insert_candidates(xr, sel[r], blocks, k, idx + r * k);
      kv[r] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), out, _mm512_maskz_loadu_epi32(out, idx + r * k), xr, 4);
    }
  }
  if (k <= 8 && R % 2 == 0) {  // two rows' weights in one register: half the exps and conversions
    const __mmask16 out2 = static_cast<__mmask16>(out | (out << 8));
    for (int r = 0; r < R; r += 2) {
      const __m512 v = _mm512_insertf32x8(kv[r], _mm512_castps512_ps256(kv[r + 1]), 1);
      const __m512 mv = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(m[r]), _mm512_set1_ps(m[r + 1]));
      const __m512 s = _mm512_maskz_mov_ps(out2, times_inv_halves(exp16_le0(_mm512_sub_ps(v, mv)), inv[r], inv[r + 1]));
      const __m512 wv = finish_weights_pair8(s, normalize, scaling);
      _mm512_mask_storeu_ps(w + r * k, out, wv);
      _mm512_mask_storeu_ps(w + (r + 1) * k, out, _mm512_castps256_ps512(_mm512_extractf32x8_ps(wv, 1)));
    }
    return;
  }
  for (int r = 0; r < R; ++r) {
    const __m512 wv = _mm512_maskz_mov_ps(out, times_inv(exp16_le0(_mm512_sub_ps(kv[r], _mm512_set1_ps(m[r]))), inv[r]));
    _mm512_mask_storeu_ps(w + r * k, out, finish_weights16(wv, normalize, scaling));
  }
}

// The R = 4 kernel for shape (n, k): the shapes compiled with constant n and k where there is one.
template <bool kL2>
auto topk_rows4(int n, int k) {
  return k != 8    ? topk_softmax_rows<4, 0, 0, kL2>
         : n == 256 ? topk_softmax_rows<4, 256, 8, kL2>
         : n == 128 ? topk_softmax_rows<4, 128, 8, kL2>
         : n == 64  ? topk_softmax_rows<4, 64, 8, kL2>
                    : topk_softmax_rows<4, 0, 0, kL2>;
}

}  // namespace

void topk_softmax_avx512(const float* x, int n, int rows, int k, bool normalize, double scaling, int32_t* idx, float* w,
                         TopKScratch& scratch) {
  const Kernels& plain = avx512_kernels();
  if (k > 16 || n % 16 != 0 || n > 256) {
    const Range all{0, n};
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + r * n;
      const float m = plain.topk(xr, &all, 1, k, idx + r * k, scratch);
      plain.scores_at(xr, idx + r * k, k, ScoringFunc::softmax, m, 1.0 / plain.exp_sum(xr, n, m, nullptr), w + r * k);
      finish_weights(w + r * k, k, normalize, scaling);
    }
    return;
  }
  int r = 0;
  // Shapes compiled with constant n and k, the same bits, 1.09-1.12x as fast as the same code reading
  // them at run time (bench/README.md, stop 13): 256 experts top-8 (issue 6's target shape), 128 top-8
  // (Qwen3-30B-A3B, Qwen3-235B-A22B: num_experts 128, num_experts_per_tok 8), 64 top-8 (Pangu Pro MoE's
  // plain top-8 baseline, OLMoE).
  const auto rows4 = row_prefetch() == RowPrefetch::l2_far ? topk_rows4<true>(n, k) : topk_rows4<false>(n, k);
  for (; r + 4 <= rows; r += 4) rows4(x + r * n, n, k, normalize, scaling, idx + r * k, w + r * k, scratch);
  for (; r < rows; ++r) topk_softmax_rows<1>(x + r * n, n, k, normalize, scaling, idx + r * k, w + r * k, scratch);
}

}  // namespace moesim::routing

#pragma GCC pop_options
