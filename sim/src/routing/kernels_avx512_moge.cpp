// routing/kernels_avx512_moge.cpp: the fused AVX-512 kernel of MoGE with one expert per group (simd.hpp,
// Kernels::group_top1_softmax). Bit-identical to kernels_scalar.cpp; R rows at once, stage by stage, so
// that the dependency chains of rows overlap.
#include "routing/avx512_select.hpp"  // first: it opens the AVX-512 pragma region closed at the end

namespace moesim::routing {

namespace {

using namespace avx512;

// Within each run of pg lanes (pg = 2, 4, 8, 16): its max in every lane (smax), and in every lane the
// lowest lane of the run that attains it (lane), by butterflies of max and min.
inline void segment_argmax(__m512 v, int pg, __m512& smax, __m512i& lane) {
  const __m512 s = segment_max(v, pg);
  __m512i li = _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(v, s, _CMP_EQ_OQ), _mm512_set1_epi32(16), iota32());
  for (int j = 1; j < pg; j *= 2) li = _mm512_min_epi32(li, swap_lanes(li, j));
  smax = s;
  lane = li;
}

constexpr int kMaxMogeExperts = 256;

// Groups of pg = 16 vpg experts (vpg = 1 .. 16): the group max in every lane (a lane-wise max, then a
// butterfly) and the first expert attaining it, from the equality masks of its registers, four at a
// time (one 64-bit mask) until one holds it.
inline float group_argmax_wide(const float* x, int vpg, int32_t& at) {
  __m512 m = _mm512_loadu_ps(x);
  for (int v = 1; v < vpg; ++v) m = _mm512_max_ps(m, _mm512_loadu_ps(x + 16 * v));
  m = segment_max(m, 16);
  at = 0;  // not reached on NaN-free rows: the max is one of them
  for (int c = 0; c < vpg; c += 4) {
    uint64_t eq = 0;
    for (int v = c; v < vpg && v < c + 4; ++v)
      eq |= static_cast<uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(x + 16 * v), m, _CMP_EQ_OQ)) << (16 * (v - c));
    if (eq != 0) {
      at = 16 * c + __builtin_ctzll(eq);
      break;
    }
  }
  return _mm512_cvtss_f32(m);
}

// R rows, n % 16 == 0, n <= 256, pg in {2, 4, 8, 16} or 16 vpg (vpg <= 16). Stage 1: the argmax and max of
// every group (for pg <= 16 compressed from the first lane of every run of a register). Stage 2: the
// softmax denominator. Stage 3: the weights of the group maxima.
// kN, kPg: the shape as compile-time constants (0: n and pg as given), so that the compiler unrolls the
// loops over vectors and groups (group_top1_softmax_avx512 lists the shapes).
template <int R, int kN = 0, int kPg = 0, bool kL2 = false>  // kL2: RowPrefetch::l2_far
void group_top1_softmax_rows(const float* x, int n_given, int pg_given, int32_t* idx, float* w) {
  const int n = kN != 0 ? kN : n_given, pg = kPg != 0 ? kPg : pg_given;
  const int groups = n / pg;
  alignas(64) float gm[R][kMaxMogeExperts / 2 + 16];  // [rows, groups] group maxima
  __m512 lane_max[R];
  for (int r = 0; r < R; ++r) {
    lane_max[r] = _mm512_set1_ps(-kInf);
  }
  if (pg <= 16) {
    const int gpv = 16 / pg;
    const __mmask16 starts = run_starts(pg);
    const __mmask16 per_vec = first_lanes(static_cast<unsigned>(gpv));
    for (int i = 0, g = 0; i < n; i += 16, g += gpv)
      for (int r = 0; r < R; ++r) {
        __m512 s;
        __m512i lane;
        segment_argmax(_mm512_loadu_ps(x + r * n + i), pg, s, lane);
        lane_max[r] = _mm512_max_ps(lane_max[r], s);
        _mm512_mask_storeu_epi32(idx + r * groups + g, per_vec,
                                 _mm512_maskz_compress_epi32(starts, _mm512_add_epi32(lane, _mm512_set1_epi32(i))));
        _mm512_mask_storeu_ps(gm[r] + g, per_vec, _mm512_maskz_compress_ps(starts, s));
      }
  } else {
    for (int g = 0; g < groups; ++g)
      for (int r = 0; r < R; ++r) {
        int32_t at;
        gm[r][g] = group_argmax_wide(x + r * n + g * pg, pg / 16, at);
        idx[r * groups + g] = g * pg + at;
      }
    for (int r = 0; r < R; ++r)
      for (int g = 0; g < groups; g += 16)
        lane_max[r] = _mm512_max_ps(lane_max[r], _mm512_mask_loadu_ps(_mm512_set1_ps(-kInf), tail_mask(g, groups), gm[r] + g));
  }
  float m[R];
  bool finite = true;
  for (int r = 0; r < R; ++r) {
    m[r] = _mm512_reduce_max_ps(lane_max[r]);
    finite = finite && std::isfinite(m[r]);
  }
  if (!finite) {  // an infinite row max: the limit rule, rare
    scalar_kernels().group_top1_softmax(x, n, R, pg, idx, w);
    return;
  }
  QuarterSums sum[R];  // one 256-expert block of fast_math.hpp's order
  int last_q = 0;
  for (int b = 0, q = 0; b < n; b += 64, ++q) {
    const int nv = (n - b) / 16 < 4 ? (n - b) / 16 : 4;
    for (int r = 0; r < R; ++r) {
      __m512 t[4];
      for (int j = 0; j < nv; ++j) {
        t[j] = exp16_le0(_mm512_sub_ps(_mm512_loadu_ps(x + r * n + b + 16 * j), _mm512_set1_ps(m[r])));
        // spread over the exps (prefetch_line)
        prefetch_next<kL2>(x + (r + 2 * R) * n + b + 16 * j, x + (r + kFarBlocks * R) * n + b + 16 * j);
      }
      sum[r].add(q, block_sum(t, nv));
    }
    last_q = q;
  }
  for (int r = 0; r < R; ++r) {
    const double inv = 1.0 / sum_f64(sum[r].total(last_q));
    for (int g = 0; g < groups; g += 16) {
      const __mmask16 live = tail_mask(g, groups);
      const __m512 e = exp16_le0(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, gm[r] + g), _mm512_set1_ps(m[r])));
      _mm512_mask_storeu_ps(w + r * groups + g, live, times_inv(e, inv));
    }
  }
}

// The R = 4 kernel for n experts in groups of per_group: the shapes compiled as constants where there is one.
template <bool kL2>
auto moge_rows4(int n, int per_group) {
  return n == 64 && per_group == 8    ? group_top1_softmax_rows<4, 64, 8, kL2>
         : n == 256 && per_group == 32 ? group_top1_softmax_rows<4, 256, 32, kL2>
                                       : group_top1_softmax_rows<4, 0, 0, kL2>;
}

}  // namespace

void group_top1_softmax_avx512(const float* x, int n, int rows, int per_group, int32_t* idx, float* w) {
  const bool narrow = per_group >= 2 && 16 % per_group == 0, wide = per_group % 16 == 0;
  if (n % 16 != 0 || n > kMaxMogeExperts || !(narrow || wide))
    return scalar_kernels().group_top1_softmax(x, n, rows, per_group, idx, w);
  const int groups = n / per_group;
  int r = 0;
  // Shapes compiled with constant n and group size, the same bits: 64 experts in 8 groups (Pangu Pro MoE:
  // num_experts 64, num_experts_per_tok 8, one per group; paired 1.30x as fast as the same code reading
  // them at run time) and 256 in 8 groups (issue 6's PyTorch baseline; 1.21x) (bench/README.md, stop 13).
  const auto rows4 = row_prefetch() == RowPrefetch::l2_far ? moge_rows4<true>(n, per_group) : moge_rows4<false>(n, per_group);
  for (; r + 4 <= rows; r += 4) rows4(x + r * n, n, per_group, idx + r * groups, w + r * groups);
  for (; r < rows; ++r) group_top1_softmax_rows<1>(x + r * n, n, per_group, idx + r * groups, w + r * groups);
}

}  // namespace moesim::routing

#pragma GCC pop_options
