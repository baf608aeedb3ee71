// routing/kernels_avx512.cpp: AVX-512 versions of the basic kernels of simd.hpp, chosen at run time
// (the fused ones are in kernels_avx512_fused.cpp). Bit-identical to kernels_scalar.cpp: the same IEEE
// operations lane by lane (explicit FMAs where the scalar code calls std::fma, nothing else fused),
// selections exact by construction.
#include "routing/avx512_select.hpp"  // first: it opens the AVX-512 pragma region closed at the end

namespace moesim::routing {

namespace {

using namespace avx512;

// Pass 1: lane maxima give a threshold t <= the k-th best key (the k largest lane maxima are k distinct
// experts >= t). Pass 2: the experts with key >= t, in increasing index order, compressed to scratch.
// Pass 3: their exact top k by sorted insertion (few candidates: cheap).
float topk_avx512(const float* key, const Range* ranges, int n_ranges, int k, int32_t* idx, TopKScratch& scratch) {
  if (k > 16) return scalar_kernels().topk(key, ranges, n_ranges, k, idx, scratch);
  const __m512 ninf = _mm512_set1_ps(-kInf);
  __m512 lane_max = ninf;
  for (int r = 0; r < n_ranges; ++r)
    for (int i = ranges[r].begin; i < ranges[r].end; i += 16)
      lane_max = _mm512_max_ps(lane_max, _mm512_mask_loadu_ps(ninf, tail_mask(i, ranges[r].end), key + i));
  const float mx = _mm512_reduce_max_ps(lane_max);
  const __m512 t = _mm512_set1_ps(lane_threshold(lane_max, k));
  float* mk = scratch.key.data();
  int32_t* mi = scratch.index.data();
  int n = 0;
  for (int r = 0; r < n_ranges; ++r)
    for (int i = ranges[r].begin; i < ranges[r].end; i += 16) {
      const __mmask16 live = tail_mask(i, ranges[r].end);
      const __m512 v = _mm512_maskz_loadu_ps(live, key + i);
      const __mmask16 m = _mm512_mask_cmp_ps_mask(live, v, t, _CMP_GE_OQ);
      _mm512_storeu_ps(mk + n, _mm512_maskz_compress_ps(m, v));
      _mm512_storeu_si512(mi + n, _mm512_maskz_compress_epi32(m, _mm512_add_epi32(iota32(), _mm512_set1_epi32(i))));
      n += __builtin_popcount(m);
    }
  SortedTop top;  // sorted insertion of the few candidates
  for (int j = 0; j < n; ++j) top.offer(mk[j], mi[j], k, idx);
  return mx;
}

// Blocks of 256, each a pairwise fp32 tree of 16-lane terms (block_sum of each quarter, then
// QuarterSums), then into fp64 lane sums (fast_math.hpp).
double exp_sum_avx512(const float* x, int n, float m, float* e_out) {
  if (!std::isfinite(m)) return scalar_kernels().exp_sum(x, n, m, e_out);  // the limit rule, rare
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  const __m512 mv = _mm512_set1_ps(m);
  QuarterSums tree{};
  for (int b = 0, q = 0; b < n; b += 64, ++q) {
    __m512 t[4];
    int nv = 0;
    for (; nv < 4 && b + 16 * nv < n; ++nv) {
      const int i = b + 16 * nv;
      const __mmask16 live = tail_mask(i, n);
      t[nv] = _mm512_maskz_mov_ps(live, exp16_le0(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, x + i), mv)));
      if (e_out) _mm512_mask_storeu_ps(e_out + i, live, t[nv]);
    }
    tree.add(q, block_sum(t, nv));
    if (q % 4 == 3 || b + 64 >= n) add_lanes(tree.total(q), lo, hi);  // the end of a 256-expert block
  }
  return sum_lanes(lo, hi);
}

void sigmoid_avx512(const float* x, int n, float* s) {
  for (int i = 0; i < n; i += 16) {
    const __mmask16 live = tail_mask(i, n);
    _mm512_mask_storeu_ps(s + i, live, sigmoid16(_mm512_maskz_loadu_ps(live, x + i)));
  }
}

void sigmoid_bias_avx512(const float* x, const float* bias, int n, float* s, float* key) {
  for (int i = 0; i < n; i += 16) {
    const __mmask16 live = tail_mask(i, n);
    const __m512 p = sigmoid16(_mm512_maskz_loadu_ps(live, x + i));
    _mm512_mask_storeu_ps(s + i, live, p);
    _mm512_mask_storeu_ps(key + i, live, _mm512_add_ps(p, _mm512_maskz_loadu_ps(live, bias + i)));
  }
}

// Groups of a multiple of 16 experts: lane-wise top 2, then the top 2 of the lanes.
void group_scores_avx512(const float* key, int groups, int per_group, bool top2, float* score) {
  const int n = groups * per_group;
  if (!top2 && per_group >= 2 && per_group < 16 && 16 % per_group == 0 && n % 16 == 0) {
    // Groups of 2, 4 or 8, max scores (DeepSeek-V2's group_limited_greedy on 64 experts in groups of 8): a
    // segmented max inside each register, its first lane per group compressed out.
    const int gpv = 16 / per_group;
    const __mmask16 starts = run_starts(per_group);
    for (int i = 0, g = 0; i < n; i += 16, g += gpv) {
      const __m512 s = segment_max(_mm512_loadu_ps(key + i), per_group);
      _mm512_mask_storeu_ps(score + g, first_lanes(static_cast<unsigned>(gpv)), _mm512_maskz_compress_ps(starts, s));
    }
    return;
  }
  if (per_group % 16 != 0) return scalar_kernels().group_scores(key, groups, per_group, top2, score);
  const __m512 ninf = _mm512_set1_ps(-kInf);
  for (int g = 0; g < groups; ++g) {
    const float* v = key + g * per_group;
    __m512 m1 = ninf, m2 = ninf;
    for (int i = 0; i < per_group; i += 16) {
      const __m512 x = _mm512_loadu_ps(v + i);
      m2 = _mm512_max_ps(m2, _mm512_min_ps(m1, x));
      m1 = _mm512_max_ps(m1, x);
    }
    const float first = _mm512_reduce_max_ps(m1);
    if (!top2) {
      score[g] = first;
      continue;
    }
    const __mmask16 at = static_cast<__mmask16>(1u << __builtin_ctz(_mm512_cmp_ps_mask(m1, _mm512_set1_ps(first), _CMP_EQ_OQ)));
    const float others = _mm512_reduce_max_ps(_mm512_mask_mov_ps(m1, at, ninf));
    const float below = _mm512_mask_reduce_max_ps(at, m2);
    score[g] = first + (others > below ? others : below);
  }
}

// Groups of 2, 4, 8 or 16 experts, 16 | n: a segmented max inside each register, then the lowest lane
// equal to its segment's max.
void group_top1_avx512(const float* key, int n, int per_group, int32_t* idx) {
  if (n % 16 != 0 || per_group < 2 || 16 % per_group != 0) return scalar_kernels().group_top1(key, n, per_group, idx);
  const unsigned seg_mask = (1u << per_group) - 1u;
  int g = 0;
  for (int i = 0; i < n; i += 16) {
    const __m512 v = _mm512_loadu_ps(key + i);
    const __m512 s = segment_max(v, per_group);
    const unsigned eq = _mm512_cmp_ps_mask(v, s, _CMP_EQ_OQ);
    for (int lane = 0; lane < 16; lane += per_group) idx[g++] = i + lane + __builtin_ctz((eq >> lane) & seg_mask);
  }
}

void scores_at_avx512(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double inv, float* w) {
  for (int s = 0; s < k; s += 16) {
    const __mmask16 live = tail_mask(s, k);
    const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, _mm512_maskz_loadu_epi32(live, idx + s), x, 4);
    const __m512 r = f == ScoringFunc::sigmoid ? sigmoid16(v) : times_inv(softmax_term16(v, _mm512_set1_ps(m)), inv);
    _mm512_mask_storeu_ps(w + s, live, r);
  }
}

}  // namespace

// kernels_avx512_fused.cpp
void topk_softmax_avx512(const float* x, int n, int rows, int k, bool normalize, double scaling, int32_t* idx, float* w,
                         TopKScratch& scratch);
// kernels_avx512_moge.cpp
void group_top1_softmax_avx512(const float* x, int n, int rows, int per_group, int32_t* idx, float* w);
// kernels_avx512_grouped.cpp
void group_limited_avx512(const float* x, int rows, const GroupLimitedShape& shape, int32_t* idx, float* w,
                          TopKScratch& scratch);

const Kernels& avx512_kernels() {
  static const Kernels k{topk_avx512,         exp_sum_avx512,    sigmoid_avx512,      sigmoid_bias_avx512,
                         group_scores_avx512, group_top1_avx512, scores_at_avx512,    topk_softmax_avx512,
                         group_top1_softmax_avx512, group_limited_avx512};
  return k;
}

}  // namespace moesim::routing

#pragma GCC pop_options
