// routing/kernels_avx512.cpp: AVX-512 versions of the kernels of simd.hpp, chosen at run time.
// Bit-identical to kernels_scalar.cpp: the same IEEE operations lane by lane (explicit FMAs where the
// scalar code calls std::fma, nothing else fused), selections exact by construction.
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "routing/fast_math.hpp"  // before the target pragma: their inline functions stay plain x86-64
#include "routing/simd.hpp"

#include <immintrin.h>

#include <limits>

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")

namespace moesim::routing {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Mask of the lanes of [i, end) in a 16-lane block starting at i.
inline __mmask16 tail_mask(int i, int end) {
  const int left = end - i;
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// exp_f32 on 16 lanes, the same operations as fast_math.hpp.
inline __m512 exp16(__m512 x) {
  using namespace exp_const;
  x = _mm512_max_ps(x, _mm512_set1_ps(kMin));
  x = _mm512_min_ps(x, _mm512_set1_ps(kMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
  const __m512 r2 = _mm512_mul_ps(r, r);
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

// Lane i <- lane i ^ j.
inline __m512 swap_lanes(__m512 v, int j) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_permutexvar_ps(_mm512_xor_si512(lane, _mm512_set1_epi32(j)), v);
}

// Blend masks of the bitonic network below: stage (p, j) for p = 2, 4, 8, 16 and j = p/2 .. 1; lane i
// takes the max when (i & j) == 0 differs from (i & p) == 0.
struct SortMasks {
  unsigned short mask[10];
  int j[10];
};
constexpr SortMasks make_sort_masks() {
  SortMasks m{};
  int stage = 0;
  for (int p = 2; p <= 16; p *= 2)
    for (int j = p / 2; j >= 1; j /= 2, ++stage) {
      unsigned take_max = 0;
      for (int i = 0; i < 16; ++i)
        if (((i & j) == 0) != ((i & p) == 0)) take_max |= 1u << i;
      m.mask[stage] = static_cast<unsigned short>(take_max);
      m.j[stage] = j;
    }
  return m;
}
constexpr SortMasks kSortMasks = make_sort_masks();

// The 16 lanes sorted ascending (bitonic network, 10 compare-exchange stages).
inline __m512 sort16(__m512 v) {
#pragma GCC unroll 10
  for (int stage = 0; stage < 10; ++stage) {
    const __m512 w = swap_lanes(v, kSortMasks.j[stage]);
    v = _mm512_mask_blend_ps(kSortMasks.mask[stage], _mm512_min_ps(v, w), _mm512_max_ps(v, w));
  }
  return v;
}

// Exact top k of c <= 16 candidates (keys ck, experts ci, in increasing expert order) without branches:
// rank_j = #{i : ck[i] > ck[j]} + #{i < j : ck[i] == ck[j]}, then idx[rank_j] = ci[j] for rank_j < k.
inline void rank_candidates(const float* ck, const int32_t* ci, int c, int k, int32_t* idx) {
  const __mmask16 live = static_cast<__mmask16>(c == 16 ? 0xFFFFu : (1u << c) - 1u);
  const __m512 keys = _mm512_mask_loadu_ps(_mm512_set1_ps(-kInf), live, ck);  // padding never outranks
  const __m512i one = _mm512_set1_epi32(1);
  __m512i rank = _mm512_setzero_si512();
  for (int i = 0; i < c; ++i) {
    const __m512 b = _mm512_set1_ps(ck[i]);
    const __mmask16 later = static_cast<__mmask16>(0xFFFFu << (i + 1));
    const __mmask16 beats = _mm512_cmp_ps_mask(b, keys, _CMP_GT_OQ) | (_mm512_cmp_ps_mask(b, keys, _CMP_EQ_OQ) & later);
    rank = _mm512_mask_add_epi32(rank, beats, rank, one);
  }
  const __mmask16 kept = _mm512_mask_cmplt_epi32_mask(live, rank, _mm512_set1_epi32(k));
  _mm512_mask_i32scatter_epi32(idx, kept, rank, _mm512_maskz_loadu_epi32(live, ci), 4);
}

// The same for any c: sorted insertion (an equal key offered later never displaces an earlier one).
inline void insert_candidates(const float* ck, const int32_t* ci, int c, int k, int32_t* idx) {
  float best[16];
  int size = 0;
  for (int j = 0; j < c; ++j) {
    const float v = ck[j];
    if (size == k) {
      if (!(v > best[k - 1])) continue;
      --size;
    }
    int p = size++;
    while (p > 0 && v > best[p - 1]) {
      best[p] = best[p - 1];
      idx[p] = idx[p - 1];
      --p;
    }
    best[p] = v;
    idx[p] = ci[j];
  }
}

// Appends the keys v & sel (and their experts first + lane) at lanes c .. of (ck, ci), in lane order;
// lanes past 16 are dropped (the caller checks c <= 16). Registers only: compress, then expand.
inline void append_candidates(__m512 v, __mmask16 sel, int first, __m512& ck, __m512i& ci, unsigned& c) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const unsigned pop = static_cast<unsigned>(__builtin_popcount(sel));
  const __mmask16 at = static_cast<__mmask16>(((1u << pop) - 1u) << (c < 16 ? c : 16));  // lanes c .. c+pop-1
  ck = _mm512_mask_expand_ps(ck, at, _mm512_maskz_compress_ps(sel, v));
  ci = _mm512_mask_expand_epi32(ci, at, _mm512_maskz_compress_epi32(sel, _mm512_add_epi32(iota, _mm512_set1_epi32(first))));
  c += pop;
}

// Exact top k of the candidates (keys ck, experts ci, c <= 16 of them in increasing expert order).
inline void rank_registers(__m512 ck, __m512i ci, unsigned c, int k, int32_t* idx, TopKScratch& scratch) {
  _mm512_storeu_ps(scratch.key.data(), ck);
  _mm512_storeu_si512(scratch.index.data(), ci);
  rank_candidates(scratch.key.data(), scratch.index.data(), static_cast<int>(c), k, idx);
}

// Pass 1: lane maxima give a threshold t <= the k-th best key (the k largest lane maxima are k distinct
// experts >= t). Pass 2: the experts with key >= t, in increasing index order, kept in registers while
// there are at most 16 (else compressed to scratch). Pass 3: exact top-k of those (rank_candidates, or
// insert_candidates when there are more than 16).
float topk_avx512(const float* key, const Range* ranges, int n_ranges, int k, int32_t* idx, TopKScratch& scratch) {
  if (k > 16) return scalar_kernels().topk(key, ranges, n_ranges, k, idx, scratch);
  const __m512 ninf = _mm512_set1_ps(-kInf);
  __m512 lane_max = ninf;
  for (int r = 0; r < n_ranges; ++r)
    for (int i = ranges[r].begin; i < ranges[r].end; i += 16)
      lane_max = _mm512_max_ps(lane_max, _mm512_mask_loadu_ps(ninf, tail_mask(i, ranges[r].end), key + i));
  const float mx = _mm512_reduce_max_ps(lane_max);
  alignas(64) float sorted[16];
  _mm512_store_ps(sorted, sort16(lane_max));
  const __m512 t = _mm512_set1_ps(sorted[16 - k]);
  __m512 ck = ninf;
  __m512i ci = _mm512_setzero_si512();
  unsigned c = 0;
  for (int r = 0; r < n_ranges; ++r)
    for (int i = ranges[r].begin; i < ranges[r].end; i += 16) {
      const __mmask16 live = tail_mask(i, ranges[r].end);
      const __m512 v = _mm512_maskz_loadu_ps(live, key + i);
      append_candidates(v, _mm512_mask_cmp_ps_mask(live, v, t, _CMP_GE_OQ), i, ck, ci, c);
    }
  if (c <= 16) {
    rank_registers(ck, ci, c, k, idx, scratch);
    return mx;
  }
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  float* mk = scratch.key.data();
  int32_t* mi = scratch.index.data();
  int n = 0;
  for (int r = 0; r < n_ranges; ++r)
    for (int i = ranges[r].begin; i < ranges[r].end; i += 16) {
      const __mmask16 live = tail_mask(i, ranges[r].end);
      const __m512 v = _mm512_maskz_loadu_ps(live, key + i);
      const __mmask16 m = _mm512_mask_cmp_ps_mask(live, v, t, _CMP_GE_OQ);
      _mm512_storeu_ps(mk + n, _mm512_maskz_compress_ps(m, v));
      _mm512_storeu_si512(mi + n, _mm512_maskz_compress_epi32(m, _mm512_add_epi32(iota, _mm512_set1_epi32(i))));
      n += __builtin_popcount(m);
    }
  insert_candidates(mk, mi, n, k, idx);
  return mx;
}

// Threshold of the top k (k <= 16) from the lane maxima: the k-th largest of them (sort16), <= the
// k-th best key since the k largest lane maxima are k distinct experts.
inline float lane_threshold(__m512 lane_max, int k) {
  alignas(64) float sorted[16];
  _mm512_store_ps(sorted, sort16(lane_max));
  return sorted[16 - k];
}

// fp64 lane sums of e (lanes 0-7 in lo, 8-15 in hi), the order of fast_math.hpp.
inline void add_lanes(__m512 e, __m512d& lo, __m512d& hi) {
  lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
  hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
}

inline double sum_lanes(__m512d lo, __m512d hi) {
  const __m512d s8 = _mm512_add_pd(lo, hi);
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd(s8, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

double exp_sum_avx512(const float* x, int n, float m, float* e_out);
void scores_at_avx512(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double sum, float* w);

// Top k of softmax over R rows at once (their dependency chains overlap), n % 16 == 0, k <= 16. Pass 1:
// the lane maxima (row max m, threshold t). Pass 2: the exp sum and, in registers, the candidates >= t
// in increasing expert order (compress, then expand at the next free lanes), ranked exactly; more than
// 16 candidates (rare) go through topk_avx512. x: [R, n]; idx, w: [R, k].
template <int R>
void topk_softmax_rows(const float* x, int n, int k, int32_t* idx, float* w, TopKScratch& scratch) {
  __m512 lane_max[R], ck[R], mv[R], t[R];
  __m512d lo[R], hi[R];
  __m512i ci[R];
  unsigned c[R];
  float m[R];
  for (int r = 0; r < R; ++r) {
    const float* xr = x + r * n;
    __m512 a = _mm512_loadu_ps(xr), b = _mm512_set1_ps(-kInf);
    for (int i = 16; i < n; i += 32) {  // two chains
      a = _mm512_max_ps(a, _mm512_loadu_ps(xr + i));
      if (i + 16 < n) b = _mm512_max_ps(b, _mm512_loadu_ps(xr + i + 16));
    }
    lane_max[r] = _mm512_max_ps(a, b);
    m[r] = _mm512_reduce_max_ps(lane_max[r]);
    mv[r] = _mm512_set1_ps(m[r]);
    t[r] = _mm512_set1_ps(lane_threshold(lane_max[r], k));
    lo[r] = hi[r] = _mm512_setzero_pd();
    ck[r] = _mm512_set1_ps(-kInf);
    ci[r] = _mm512_setzero_si512();
    c[r] = 0;
  }
  for (int i = 0; i < n; i += 16)
    for (int r = 0; r < R; ++r) {
      const __m512 v = _mm512_loadu_ps(x + r * n + i);
      add_lanes(exp16(_mm512_sub_ps(v, mv[r])), lo[r], hi[r]);
      append_candidates(v, _mm512_cmp_ps_mask(v, t[r], _CMP_GE_OQ), i, ck[r], ci[r], c[r]);
    }
  alignas(64) float kbuf[R][16];
  alignas(64) int32_t ibuf[R][16];
  for (int r = 0; r < R; ++r) {
    if (c[r] <= 16) {
      _mm512_store_ps(kbuf[r], ck[r]);
      _mm512_store_si512(ibuf[r], ci[r]);
      rank_candidates(kbuf[r], ibuf[r], static_cast<int>(c[r]), k, idx + r * k);
    } else {
      const Range all{0, n};
      topk_avx512(x + r * n, &all, 1, k, idx + r * k, scratch);
    }
    scores_at_avx512(x + r * n, idx + r * k, k, ScoringFunc::softmax, m[r], sum_lanes(lo[r], hi[r]), w + r * k);
  }
}

void topk_softmax_avx512(const float* x, int n, int rows, int k, int32_t* idx, float* w, TopKScratch& scratch) {
  if (k > 16 || n % 16 != 0) {
    for (int r = 0; r < rows; ++r) {
      const Range all{0, n};
      const float* xr = x + r * n;
      const float m = topk_avx512(xr, &all, 1, k, idx + r * k, scratch);
      scores_at_avx512(xr, idx + r * k, k, ScoringFunc::softmax, m, exp_sum_avx512(xr, n, m, nullptr), w + r * k);
    }
    return;
  }
  int r = 0;
  for (; r + 2 <= rows; r += 2) topk_softmax_rows<2>(x + r * n, n, k, idx + r * k, w + r * k, scratch);
  if (r < rows) topk_softmax_rows<1>(x + r * n, n, k, idx + r * k, w + r * k, scratch);
}

double exp_sum_avx512(const float* x, int n, float m, float* e_out) {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();  // lanes 0-7 and 8-15
  const __m512 mv = _mm512_set1_ps(m);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 live = tail_mask(i, n);
    const __m512 e = _mm512_maskz_mov_ps(live, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, x + i), mv)));
    if (e_out) _mm512_mask_storeu_ps(e_out + i, live, e);
    add_lanes(e, lo, hi);
  }
  return sum_lanes(lo, hi);
}

void sigmoid_avx512(const float* x, int n, float* s) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 live = tail_mask(i, n);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    const __m512 e = exp16(_mm512_xor_ps(v, _mm512_set1_ps(-0.0f)));  // -v, exactly
    _mm512_mask_storeu_ps(s + i, live, _mm512_div_ps(one, _mm512_add_ps(one, e)));
  }
}

void sigmoid_bias_avx512(const float* x, const float* bias, int n, float* s, float* key) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 live = tail_mask(i, n);
    const __m512 v = _mm512_maskz_loadu_ps(live, x + i);
    const __m512 p = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_xor_ps(v, _mm512_set1_ps(-0.0f)))));
    _mm512_mask_storeu_ps(s + i, live, p);
    _mm512_mask_storeu_ps(key + i, live, _mm512_add_ps(p, _mm512_maskz_loadu_ps(live, bias + i)));
  }
}

// Groups of a multiple of 16 experts: lane-wise top 2, then the top 2 of the lanes.
void group_scores_avx512(const float* key, int groups, int per_group, bool top2, float* score) {
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
    __m512 s = v;
    for (int j = 1; j < per_group; j *= 2) s = _mm512_max_ps(s, swap_lanes(s, j));
    const unsigned eq = _mm512_cmp_ps_mask(v, s, _CMP_EQ_OQ);
    for (int lane = 0; lane < 16; lane += per_group) idx[g++] = i + lane + __builtin_ctz((eq >> lane) & seg_mask);
  }
}

void scores_at_avx512(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double sum, float* w) {
  for (int s = 0; s < k; s += 16) {
    const __mmask16 live = tail_mask(s, k);
    const __m512i at = _mm512_maskz_loadu_epi32(live, idx + s);
    const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, at, x, 4);
    __m512 r;
    if (f == ScoringFunc::sigmoid) {
      const __m512 one = _mm512_set1_ps(1.0f);
      r = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_xor_ps(v, _mm512_set1_ps(-0.0f)))));
    } else {
      const __m512 e = exp16(_mm512_sub_ps(v, _mm512_set1_ps(m)));
      const __m512d d = _mm512_set1_pd(sum);
      const __m256 lo = _mm512_cvtpd_ps(_mm512_div_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(e)), d));
      r = _mm512_castps256_ps512(lo);
      if (k - s > 8) {  // the upper 8 lanes are live: their division too
        const __m256 hi = _mm512_cvtpd_ps(
            _mm512_div_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))), d));
        r = _mm512_insertf32x8(r, hi, 1);
      }
    }
    _mm512_mask_storeu_ps(w + s, live, r);
  }
}

}  // namespace

const Kernels& avx512_kernels() {
  static const Kernels k{topk_avx512,         exp_sum_avx512,    sigmoid_avx512,   sigmoid_bias_avx512,
                         group_scores_avx512, group_top1_avx512, scores_at_avx512, topk_softmax_avx512};
  return k;
}

}  // namespace moesim::routing

#pragma GCC pop_options
