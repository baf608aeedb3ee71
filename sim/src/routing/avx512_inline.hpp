// routing/avx512_inline.hpp: AVX-512 building blocks of the kernels, lane arithmetic (private to
// kernels_avx512*.cpp; the selection half, sort networks and candidate lists, is avx512_select.hpp).
// A kernel file includes this header first (through avx512_select.hpp) and ends with `#pragma GCC
// pop_options`: the header includes what the kernels need (so that those inline functions stay plain
// x86-64), then pushes the pragma state with fp-contract=off and the AVX-512 target, so that everything
// after it, these inline functions included, is compiled for AVX-512 with nothing fused. Every function
// reproduces the scalar definition of fast_math.hpp lane by lane.
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma once
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "routing/fast_math.hpp"
#include "routing/routing_common.hpp"  // finish_weights, for the kernels' rare scalar paths
#include "routing/simd.hpp"

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>  // type_traits, utility: for avx512_select.hpp's sort stages (std::integer_sequence),
#include <utility>      // included here, before the AVX-512 pragma region, like every system header

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512cd,avx512vbmi,avx512vbmi2,avx512vpopcntdq,avx2,fma,bmi,bmi2,popcnt")

namespace moesim::routing::avx512 {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

inline __m512i iota32() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }

// Mask of the lanes of [i, end) in a 16-lane block starting at i.
inline __mmask16 tail_mask(int i, int end) {
  const int left = end - i;
  return left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << left) - 1u);
}
inline __mmask16 first_lanes(unsigned c) { return static_cast<__mmask16>(c >= 16 ? 0xFFFFu : (1u << c) - 1u); }

// Asks for one cache line (a prefetch never faults, so the last rows of a batch may ask for lines past
// its end). The fused kernels ask for the same line of the row two blocks (2 R rows) ahead at each
// vector they load in their pass of exps, so that the prefetches are spread over the work. A burst of
// a row's 16 lines at once stalled the core where the burst was issued (its L1 fill buffers full, 16 on
// Golden Cove): top-8 of 256 from L3 took 342 cycles per row that way and 294 spread, as from L2
// (bench/README.md).
inline void prefetch_line(const float* p) { __builtin_prefetch(p, 0, 3); }
// RowPrefetch (simd.hpp) chosen at compile time: the line `near` into L1, or with kL2 the line `far` into
// L2 (the caller's addresses, eight blocks ahead for far; the unused one is never computed).
template <bool kL2>
inline void prefetch_next(const float* near, const float* far) {
  if constexpr (kL2) __builtin_prefetch(far, 0, 2);
  else prefetch_line(near);
}
inline constexpr int kFarBlocks = 8;  // blocks of R rows ahead for the L2 prefetch

// exp_f32 (fast_math.hpp) on 16 lanes of s x, s = -1 when Negate, else 1, for s x <= kOver (softmax
// terms x - max; sigmoid terms -x): s x clamped to >= kFloor (so -inf gives 0), and the final scale by 2^k
// one VSCALEFPS by n = k + j / 32 (it floors its second operand and rounds once, so subnormal results
// match std::ldexp and normal ones exp_f32's integer add). Negate folds the sign into the operations that
// read x, with the same bits (negation is exact and rounding symmetric: fma(-x, c, m) = fnmadd(x, c, m),
// fma(n, -h, -x) = fnmsub(n, h, x), and max(-x, f) = -min(x, -f)).
template <bool Negate = false>
inline __m512 exp16_le0(__m512 x) {
  using namespace exp_const;
  const __m512 xc = Negate ? _mm512_min_ps(x, _mm512_set1_ps(-kFloor)) : _mm512_max_ps(x, _mm512_set1_ps(kFloor));
  const __m512 z = Negate ? _mm512_fnmadd_ps(xc, _mm512_set1_ps(kOneOverLn2), _mm512_set1_ps(kMagic))
                          : _mm512_fmadd_ps(xc, _mm512_set1_ps(kOneOverLn2), _mm512_set1_ps(kMagic));
  const __m512 n = _mm512_sub_ps(z, _mm512_set1_ps(kMagic));
  const __m512 r = Negate ? _mm512_fnmsub_ps(n, _mm512_set1_ps(kLn2), xc) : _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2), xc);
  const __m512 p = _mm512_mul_ps(_mm512_fmadd_ps(_mm512_set1_ps(kC2), r, _mm512_set1_ps(kC1)), r);
  static_assert(kTableBits == 5, "one VPERMT2PS reads a table of 32 entries, two registers");
  const __m512 t = _mm512_permutex2var_ps(_mm512_load_ps(kExp2Table), _mm512_castps_si512(z),
                                          _mm512_load_ps(kExp2Table + 16));  // low 5 bits index the 32 entries
  const __m512 y = _mm512_fmadd_ps(p, t, t);
  return _mm512_scalef_ps(y, n);
}

// sigmoid_f32 on 16 lanes, any NaN-free x: 1 / (1 + exp_f32(-x)). Where -x > kOver, exp_f32 is +inf and
// the quotient +0, which the zero-masked division gives directly.
inline __m512 sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __mmask16 finite = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-exp_const::kOver), _CMP_GE_OQ);
  return _mm512_maskz_div_ps(finite, one, _mm512_add_ps(one, exp16_le0<true>(x)));
}

// softmax_term(x, m) on 16 lanes: exp_f32(x - m), 1 where x == m (so also for an infinite m).
inline __m512 softmax_term16(__m512 x, __m512 m) {
  return _mm512_mask_mov_ps(exp16_le0(_mm512_sub_ps(x, m)), _mm512_cmp_ps_mask(x, m, _CMP_EQ_OQ), _mm512_set1_ps(1.0f));
}

// fp64 lane sums of e (lanes 0-7 in lo, 8-15 in hi).
inline void add_lanes(__m512 e, __m512d& lo, __m512d& hi) {
  lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
  hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
}

// lane j += lane j + h for h = 8, 4, 2, 1; returns lane 0.
inline double sum_lanes(__m512d lo, __m512d hi) {
  const __m512d s8 = _mm512_add_pd(lo, hi);
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd(s8, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

// The fp64 fold of fast_math.hpp over 16 fp32 lane sums: sum_lanes of them in fp64.
inline double sum_f64(__m512 s) {
  return sum_lanes(_mm512_cvtps_pd(_mm512_castps512_ps256(s)),
                   _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))));
}

// The pairwise sum of fast_math.hpp over the nv <= 4 vectors of one quarter of a 256-expert block
// ((t0 + t1) + (t2 + t3); the missing terms are 0, and x + 0 = x for the terms >= +0).
inline __m512 block_sum(const __m512* t, int nv) {
  if (nv == 4) return _mm512_add_ps(_mm512_add_ps(t[0], t[1]), _mm512_add_ps(t[2], t[3]));
  if (nv == 3) return _mm512_add_ps(_mm512_add_ps(t[0], t[1]), t[2]);
  if (nv == 2) return _mm512_add_ps(t[0], t[1]);
  return t[0];
}

// The rest of the pairwise tree of a 256-expert block: its quarter sums s_0 .. s_3 (block_sum), fed in
// order, make (s_0 + s_1) + (s_2 + s_3); a missing quarter is 0.
struct QuarterSums {
  __m512 a, b;
  void add(int q, __m512 s) {
    if (q % 4 == 0) a = s;
    else if (q % 4 == 1) a = _mm512_add_ps(a, s);
    else if (q % 4 == 2) b = s;
    else a = _mm512_add_ps(a, _mm512_add_ps(b, s));
  }
  // The block's lane sums after its last quarter q.
  __m512 total(int last_q) const { return last_q % 4 == 2 ? _mm512_add_ps(a, b) : a; }
};

// fp32(fp64(e) * inv) on 16 lanes.
// ... with lanes 0-7 times inv_lo and lanes 8-15 times inv_hi (two rows of k <= 8 side by side).
inline __m512 times_inv_halves(__m512 e, double inv_lo, double inv_hi) {
  const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(e)), _mm512_set1_pd(inv_lo)));
  const __m256 hi = _mm512_cvtpd_ps(
      _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))), _mm512_set1_pd(inv_hi)));
  return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
inline __m512 times_inv(__m512 e, double inv) { return times_inv_halves(e, inv, inv); }

// finish_weights (routing_common.hpp) of k <= 16 weights in a register (lanes >= k: 0): the fp64 sum in
// lanes s % 16 folded pairwise, then fp32(fp64(w) * f).
inline __m512 finish_weights16(__m512 w, bool normalize, double scaling) {
  if (!normalize && scaling == 1.0) return w;
  double f = scaling;
  if (normalize) {
    const double sum = sum_f64(w);
    if (sum > 0.0) f = scaling / sum;
  }
  return times_inv(w, f);
}

// finish_weights16 of two rows of k <= 8 weights side by side (row a in lanes 0-7, row b in 8-15, lanes
// >= k of each half 0), both rows at once with the same fp64 operations: with zeros in the upper 8
// lanes, sum_lanes' first fold leaves the row as it is; then lane j + lane j + 4, that + lane j + 2,
// that + lane j + 1 (the halves' 128-bit pieces swapped by shuffles), and fp32(fp64(w) * f).
inline __m512 finish_weights_pair8(__m512 w, bool normalize, double scaling) {
  if (!normalize && scaling == 1.0) return w;
  const __m512d a = _mm512_cvtps_pd(_mm512_castps512_ps256(w));
  const __m512d b = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(w), 1)));
  __m512d fa = _mm512_set1_pd(scaling), fb = fa;
  if (normalize) {
    const __m512d s4 = _mm512_add_pd(_mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(1, 0, 1, 0)),   // a0-3 | b0-3
                                     _mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(3, 2, 3, 2)));  // a4-7 | b4-7
    const __m512d s2 = _mm512_add_pd(s4, _mm512_shuffle_f64x2(s4, s4, _MM_SHUFFLE(2, 3, 0, 1)));
    const __m512d s1 = _mm512_add_pd(s2, _mm512_permute_pd(s2, 0x55));  // lane 0: row a's sum, lane 4: b's
    const __mmask8 positive = _mm512_cmp_pd_mask(s1, _mm512_setzero_pd(), _CMP_GT_OQ);
    const __m512d f = _mm512_mask_div_pd(fa, positive, fa, s1);
    fa = _mm512_permutexvar_pd(_mm512_set1_epi64(0), f);
    fb = _mm512_permutexvar_pd(_mm512_set1_epi64(4), f);
  }
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_mul_pd(a, fa))),
                            _mm512_cvtpd_ps(_mm512_mul_pd(b, fb)), 1);
}

}  // namespace moesim::routing::avx512
