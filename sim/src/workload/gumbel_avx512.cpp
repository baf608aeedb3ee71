// workload/gumbel_avx512.cpp: the AVX-512 twin of gumbel_row_scalar (synthetic.cpp), chosen at run time.
//
// Philox4x32-10 on 8 counters per register, each 32-bit word in the low half of a 64-bit lane, so that
// _mm512_mul_epu32 gives the full 32x32 -> 64 products with no shuffles (the high halves of the lanes
// carry garbage that mul_epu32 ignores and the final pack drops). Then the same IEEE operations as
// Philox::to_unit_open and fast_log (synthetic.hpp), lane by lane, nothing fused (fp-contract=off; signs
// folded into fnmsub and the 2^-23 of the uniforms into the log's exponent, both exact): the
// values are bit-identical to the scalar path (unit test GumbelRow.Avx512MatchesScalar). Rows are
// generated 128 values at a time (4 independent Philox groups), rows of 64 or 32 values two or four at a
// time (gumbel_rows_avx512), each block's Philox rounds first, then its log stages.
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "workload/synthetic.hpp"  // before the target pragma: its inline functions stay plain x86-64

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")

namespace moesim::workload_detail {

namespace {

// -fast_log(x 2^-Scale) (synthetic.hpp) on 16 lanes, for x 2^-Scale normal: the same operations in the
// same order, the tables by permutes (only the low 4 bits of the index lanes count). The bits of
// x 2^-Scale are those of x less Scale << 23, so tmp is x's less kOff + (Scale << 23), and
// z = (tmp & 0x7fffff) + kOff is the reduced argument (fast_log's ix - (tmp & 0xff800000) written
// without ix): the uniforms are passed as u 2^23 and never multiplied by 2^-23.
template <int Scale = 0>
inline __m512 neg_log16(__m512 x) {
  using namespace log_const;
  const __m512i tmp = _mm512_sub_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(static_cast<int>(kOff + (uint32_t{Scale} << 23))));
  const __m512 kf = _mm512_cvtepi32_ps(_mm512_srai_epi32(tmp, 23));
  const __m512i i = _mm512_srli_epi32(tmp, 19);
  const __m512 z = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_and_si512(tmp, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(static_cast<int>(kOff))));
  const __m512 r = _mm512_fmadd_ps(z, _mm512_permutexvar_ps(i, _mm512_load_ps(kInvC)), _mm512_set1_ps(-1.0f));
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(kC5), r, _mm512_set1_ps(kC4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC2));
  // -(fma(p, r r, r)) and -(fma(kf, ln2, T) + l) as fnmsub and a sum of the negated terms: negation is
  // exact and round-to-nearest symmetric, so these are the bits of -fast_log(x) with no sign flips.
  const __m512 neg_l = _mm512_fnmsub_ps(p, _mm512_mul_ps(r, r), r);
  return _mm512_add_ps(_mm512_fnmsub_ps(kf, _mm512_set1_ps(kLn2), _mm512_permutexvar_ps(i, _mm512_load_ps(kLogC))), neg_l);
}

// Philox4x32-10 on G independent groups of 8 counters side by side, so that their dependency chains
// overlap (gumbel_noise runs the 10 rounds, then the words in output order).
template <int G>
struct PhiloxRounds {
  __m512i x0[G], x1[G], x2[G], x3[G];
  uint32_t k0, k1;

  // Counters q0 .. q0 + 8 G - 1 of `row` (key as in RowUniforms::philox_block).
  void start(const RowUniforms::Key& key, uint32_t row, uint32_t q0) {
    uint32_t rows[G], q0s[G];
    for (int g = 0; g < G; ++g) rows[g] = row, q0s[g] = q0 + 8u * g;
    start(key, rows, q0s);
  }
  // Group g: counters q0s[g] .. q0s[g] + 7 of row rows[g] (groups of several rows side by side).
  void start(const RowUniforms::Key& key, const uint32_t (&rows)[G], const uint32_t (&q0s)[G]) {
    for (int g = 0; g < G; ++g) {
      x0[g] = _mm512_add_epi64(_mm512_set1_epi64(q0s[g]), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
      x1[g] = _mm512_set1_epi64(rows[g]);
      x2[g] = _mm512_set1_epi64(key.stream_lo);
      x3[g] = _mm512_set1_epi64(key.stream_hi);
    }
    k0 = key.key0;
    k1 = key.key1;
  }

  void round() {
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53u), m1 = _mm512_set1_epi64(0xCD9E8D57u);
    const __m512i kv0 = _mm512_set1_epi64(k0), kv1 = _mm512_set1_epi64(k1);
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      const __m512i p0 = _mm512_mul_epu32(x0[g], m0), p1 = _mm512_mul_epu32(x2[g], m1);
      x0[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), x1[g], kv0, 0x96);  // a ^ b ^ c
      x2[g] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), x3[g], kv1, 0x96);
      x1[g] = p1;
      x3[g] = p0;
    }
    k0 += 0x9E3779B9u;  // Weyl key schedule
    k1 += 0xBB67AE85u;
  }

  // After 10 rounds: the words in output order, w[j] = values 4 q0 + 16 j .. 4 q0 + 16 j + 15.
  void words(__m512i (&w)[2 * G]) const {
    const __m512i lo_idx = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), hi_idx = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    for (int g = 0; g < G; ++g) {
      const __m512i w01 = _mm512_mask_blend_epi32(0xAAAA, x0[g], _mm512_slli_epi64(x1[g], 32));  // counter i: words 0, 1
      const __m512i w23 = _mm512_mask_blend_epi32(0xAAAA, x2[g], _mm512_slli_epi64(x3[g], 32));  // counter i: words 2, 3
      w[2 * g] = _mm512_permutex2var_epi64(w01, lo_idx, w23);
      w[2 * g + 1] = _mm512_permutex2var_epi64(w01, hi_idx, w23);
    }
  }
};

// Philox::to_unit_open(w) * 2^23 = (w >> 9) + 0.5, exactly (for neg_log16<23>).
inline __m512 unit_open_times_2p23(__m512i w) {
  return _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(w, 9)), _mm512_set1_ps(0.5f));
}

// scale * (logp + g), or logp + g when scale is 1 (the product would be the same bits).
inline __m512 scaled_logit(__m512 logp, __m512 g, float scale) {
  const __m512 sum = _mm512_add_ps(logp, g);
  return scale == 1.0f ? sum : _mm512_mul_ps(_mm512_set1_ps(scale), sum);
}

inline __mmask16 live_of(int e, int n) {
  const int left = n - e;
  return left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << left) - 1u);
}

// The standard Gumbel noise of 2 G registers from a started Philox block: its 10 rounds, the words in
// output order, uniforms, then -log(-log u) stage by stage over the registers, so that the long latency
// chains of the rounds and of the two logs overlap.
template <int G>
inline void gumbel_noise(PhiloxRounds<G>& ph, __m512 (&v)[2 * G]) {
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) ph.round();
  __m512i w[2 * G];
  ph.words(w);
  for (int j = 0; j < 2 * G; ++j) v[j] = unit_open_times_2p23(w[j]);
  for (int j = 0; j < 2 * G; ++j) v[j] = neg_log16<23>(v[j]);
  for (int j = 0; j < 2 * G; ++j) v[j] = neg_log16(v[j]);
}

// Values [e, e + 32 G) of one row (those < n): Gumbel, then scale * (logp + g) if logp.
template <int G>
inline void gumbel_block(const RowUniforms::Key& key, int64_t row, int e, int n, const float* logp, float scale,
                         float* out) {
  PhiloxRounds<G> ph;
  ph.start(key, static_cast<uint32_t>(row), static_cast<uint32_t>(e / 4));
  __m512 v[2 * G];
  gumbel_noise(ph, v);
  for (int j = 0; j < 2 * G; ++j) {
    const __mmask16 live = live_of(e + 16 * j, n);
    if (logp) v[j] = scaled_logit(_mm512_maskz_loadu_ps(live, logp + e + 16 * j), v[j], scale);
    _mm512_mask_storeu_ps(out + e + 16 * j, live, v[j]);
  }
}

// Rows row0 .. row0 + R - 1 of n = 32 G / R values each (32 or 64), R rows side by side so that their
// Philox chains overlap as one row of 128 values does: group g is counters 8 (g % (G / R)) .. + 7 of
// row row0 + g / (G / R), and the R rows are contiguous in out ([R, n]).
template <int G, int R>
inline void gumbel_rows_block(const RowUniforms::Key& key, int64_t row0, const float* logp, float scale, float* out) {
  constexpr int per_row = G / R, n = 32 * per_row;
  static_assert(G % R == 0);
  uint32_t rows[G], q0s[G];
  for (int g = 0; g < G; ++g) {
    rows[g] = static_cast<uint32_t>(row0 + g / per_row);
    q0s[g] = 8u * static_cast<uint32_t>(g % per_row);
  }
  PhiloxRounds<G> ph;
  ph.start(key, rows, q0s);
  __m512 v[2 * G];
  gumbel_noise(ph, v);  // v[2 g], v[2 g + 1]: values 4 q0s[g] .. + 31 of rows[g], i.e. out + 16 j in order
  for (int j = 0; j < 2 * G; ++j) {
    if (logp) v[j] = scaled_logit(_mm512_loadu_ps(logp + (16 * j) % n), v[j], scale);
    _mm512_storeu_ps(out + 16 * j, v[j]);
  }
}

}  // namespace

void gumbel_rows_avx512(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out) {
  const RowUniforms::Key key = rng.key();
  int64_t r = 0;
  if (n == 64) {  // two rows at a time (Pangu Pro MoE, Qwen3-30B-A3B's 128 take the one-row path at full width)
    for (; r + 2 <= rows; r += 2) gumbel_rows_block<4, 2>(key, row0 + r, logp, scale, out + r * n);
  } else if (n == 32) {
    for (; r + 4 <= rows; r += 4) gumbel_rows_block<4, 4>(key, row0 + r, logp, scale, out + r * n);
  }
  for (; r < rows; ++r) gumbel_row_avx512(rng, row0 + r, n, logp, scale, out + r * n);
}

void gumbel_row_avx512(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out) {
  const RowUniforms::Key key = rng.key();
  int e = 0;
  // Widest blocks first: independent Philox groups overlap their round chains (64 experts: one block of
  // 2 groups, not two of 1, is about 1.5x faster; bench/README.md).
  for (; e + 128 <= n; e += 128) gumbel_block<4>(key, row, e, n, logp, scale, out);
  for (; e + 64 <= n; e += 64) gumbel_block<2>(key, row, e, n, logp, scale, out);
  for (; e < n; e += 32) gumbel_block<1>(key, row, e, n, logp, scale, out);
}

}  // namespace moesim::workload_detail

#pragma GCC pop_options

namespace moesim::workload_detail {

bool gumbel_avx512_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace moesim::workload_detail
