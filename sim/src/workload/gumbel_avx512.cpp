// workload/gumbel_avx512.cpp: the AVX-512 twin of gumbel_row_scalar (synthetic.cpp), chosen at run time.
//
// ARS-7 (ars.hpp) with VAES: one register holds 4 counters (16 values), and one instruction does an AES
// round of all four. Then the same IEEE operations as RowUniforms::to_unit_open and fast_log
// (synthetic.hpp), lane by lane, nothing fused (fp-contract=off; signs folded into fnmsub, exact): the
// values are bit-identical to the scalar path (unit tests GumbelRow.*). Registers are made 8 at a time,
// their rounds side by side, then their log stages, so that the latency chains overlap; rows of 16 P
// values (P <= 32) are one stream of full registers across row ends, other rows go register by register
// with masks. Per 16 values: 8 AES instructions and about 30 vector operations for the uniforms and logs.
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "workload/synthetic.hpp"  // before the target pragma: its inline functions stay plain x86-64

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx2,fma,aes,vaes")

namespace moesim::workload_detail {

namespace {

// -fast_log<Terms>(x) (synthetic.hpp) on 16 lanes, for x normal and positive: the same operations in the
// same order, k and z by VGETEXPPS and VGETMANTPS ([0.75, 1.5), sign of the source), the tables by
// permutes (only the low 4 bits of the index lanes count).
template <int Terms>
inline __m512 neg_log16(__m512 x) {
  using namespace log_const;
  const __m512 kf = _mm512_getexp_ps(x);
  const __m512 z = _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_src);
  // The index, bits 19 .. 22 of z, brought to the bottom of each lane by VPMULTISHIFTQB (a port-5 shuffle)
  // rather than a shift (port 0, which the AES rounds and VGETMANTPS already load): byte 0 of each dword
  // gets bits 19 .. 26 of it (offsets 19 and 51 in the qword); the other bytes do not count.
  const __m512i i = _mm512_multishift_epi64_epi8(_mm512_set1_epi64(0x0000003300000013LL), _mm512_castps_si512(z));
  const __m512 r = _mm512_fmadd_ps(z, _mm512_permutexvar_ps(i, _mm512_load_ps(kInvC)), _mm512_set1_ps(-1.0f));
  __m512 p = Terms == 5 ? _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(kC5), r, _mm512_set1_ps(kC4)), r, _mm512_set1_ps(kC3))
                        : _mm512_fmadd_ps(_mm512_set1_ps(kC4), r, _mm512_set1_ps(kC3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC2));
  // -(fma(p, r r, r)) and -(fma(kf, ln2, T) + l) as fnmsub and a sum of the negated terms: negation is
  // exact and round-to-nearest symmetric, so these are the bits of -fast_log(x) with no sign flips.
  const __m512 neg_l = _mm512_fnmsub_ps(p, _mm512_mul_ps(r, r), r);
  return _mm512_add_ps(_mm512_fnmsub_ps(kf, _mm512_set1_ps(kLn2), _mm512_permutexvar_ps(i, _mm512_load_ps(kT))), neg_l);
}

// The round keys broadcast to the 4 counters of a register, and what makes a register of counters.
struct AvxKey {
  __m512i rk[ars::kRounds + 1];
  __m512i c0;      // per counter {0, 0, stream_lo, stream_hi} ^ rk[0]
  __m512i lane_q;  // per counter {i, 0, 0, 0}, i = 0 .. 3

  explicit AvxKey(const RowUniforms::Key& key) {
    for (int i = 0; i <= ars::kRounds; ++i)
      rk[i] = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(key.rk[static_cast<size_t>(i)].data())));
    c0 = _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, static_cast<int>(key.stream_lo), static_cast<int>(key.stream_hi))), rk[0]);
    lane_q = _mm512_setr_epi32(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
  }

  // Counters {q + i, row, stream_lo, stream_hi}, i = 0 .. 3, xored with the first round key.
  __m512i counters(uint32_t row, uint32_t q) const {
    const __m512i row_q = _mm512_set1_epi64(static_cast<long long>((uint64_t{row} << 32) | q));
    return _mm512_xor_si512(_mm512_maskz_add_epi32(0x3333, row_q, lane_q), c0);  // words 2, 3: 0 ^ c0
  }
};

// RowUniforms::to_unit_open(w) = ((w & 0x7fffff) + 0.5) 2^-23 without a conversion: the low 23 bits as the
// mantissa of f = 1 + k 2^-23 in [1, 2) (one ternary-logic op), then f - (1 - 2^-24) = (k + 0.5) 2^-23,
// exact (Sterbenz: the operands are within a factor 2), the same bits.
inline __m512 unit_open(__m512i w) {
  const __m512i f = _mm512_ternarylogic_epi32(w, _mm512_set1_epi32(0x007fffff), _mm512_set1_epi32(0x3f800000), 0xEA);  // (a & b) | c
  return _mm512_sub_ps(_mm512_castsi512_ps(f), _mm512_set1_ps(1.0f - 0x1p-24f));
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

// One register's 16 values: row, first value e of the row (counter q = e / 4), live lanes, where they go.
struct Reg {
  uint32_t row;
  int e;
  __mmask16 live;
  float* out;
};

// The noise of N registers of counters (already xored with the first round key): their ARS rounds,
// uniforms, -log(-log u) stage by stage over the registers, so that the long latency chains of the rounds
// and of the two logs overlap.
template <int N>
inline void noise_regs(const AvxKey& k, __m512i (&w)[N], __m512 (&v)[N]) {
#pragma GCC unroll 6
  for (int r = 1; r < ars::kRounds; ++r)
    for (int j = 0; j < N; ++j) w[j] = _mm512_aesenc_epi128(w[j], k.rk[r]);
  for (int j = 0; j < N; ++j) v[j] = unit_open(_mm512_aesenclast_epi128(w[j], k.rk[ars::kRounds]));
  for (int j = 0; j < N; ++j) v[j] = neg_log16<5>(v[j]);
  for (int j = 0; j < N; ++j) v[j] = neg_log16<4>(v[j]);
}

// N registers described one by one (any row, any live lanes): noise, then scale * (logp + g) if logp.
template <int N>
inline void gumbel_regs(const AvxKey& k, const Reg* g, const float* logp, float scale) {
  __m512i w[N];
  for (int j = 0; j < N; ++j) w[j] = k.counters(g[j].row, static_cast<uint32_t>(g[j].e / 4));
  __m512 v[N];
  noise_regs(k, w, v);
  for (int j = 0; j < N; ++j) {
    if (logp) v[j] = scaled_logit(_mm512_maskz_loadu_ps(g[j].live, logp + g[j].e), v[j], scale);
    _mm512_mask_storeu_ps(g[j].out, g[j].live, v[j]);
  }
}

constexpr int kRegsPerBlock = 8;

// The last m < kRegsPerBlock registers: the narrowest block that holds them (a row of 8 values alone is
// one register, not eight).
inline void gumbel_tail(const AvxKey& k, const Reg* g, int m, const float* logp, float scale) {
  if (m == 1) return gumbel_regs<1>(k, g, logp, scale);
  if (m == 2) return gumbel_regs<2>(k, g, logp, scale);
  Reg padded[kRegsPerBlock];
  for (int j = 0; j < kRegsPerBlock; ++j) padded[j] = j < m ? g[j] : Reg{0, 0, 0, g[0].out};  // live 0: nothing written
  if (m <= 4) return gumbel_regs<4>(k, padded, logp, scale);
  gumbel_regs<kRegsPerBlock>(k, padded, logp, scale);
}

constexpr int kMaxFullRegs = 32;  // rows of up to 512 values take the full-register path

// Rows of n = 16 P values (P <= kMaxFullRegs): every register full, the registers of consecutive rows
// contiguous in out, so blocks of 8 span row ends without masks. Register j of a row has the counters
// Q[j] ^ R(row): Q[j] = {4 j + i, 0, 0, 0} for its counters i = 0 .. 3, and R(row) = {0, row, stream_lo,
// stream_hi} ^ rk[0], one op per register where AvxKey::counters takes three. Returns the registers made
// (a multiple of 8); the caller makes the rest.
int64_t gumbel_full_blocks(const AvxKey& k, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                           float* out) {
  const int per_row = n / 16;
  __m512i q[kMaxFullRegs];
  for (int j = 0; j < per_row; ++j) q[j] = _mm512_maskz_add_epi32(0x1111, _mm512_set1_epi32(4 * j), k.lane_q);
  const auto row_key = [&](int64_t r) {
    return _mm512_xor_si512(k.c0, _mm512_maskz_set1_epi32(0x2222, static_cast<int>(static_cast<uint32_t>(row0 + r))));
  };
  const int64_t total = rows * per_row;
  int64_t f = 0, r = 0;
  int j = 0;
  __m512i row_r = row_key(0);
  for (; f + kRegsPerBlock <= total; f += kRegsPerBlock) {
    __m512i w[kRegsPerBlock];
    int e[kRegsPerBlock];
    for (int t = 0; t < kRegsPerBlock; ++t) {
      w[t] = _mm512_xor_si512(q[j], row_r);
      e[t] = 16 * j;
      if (++j == per_row) {
        j = 0;
        row_r = row_key(++r);
      }
    }
    __m512 v[kRegsPerBlock];
    noise_regs(k, w, v);
    for (int t = 0; t < kRegsPerBlock; ++t) {
      if (logp) v[t] = scaled_logit(_mm512_loadu_ps(logp + e[t]), v[t], scale);
      _mm512_storeu_ps(out + 16 * (f + t), v[t]);
    }
  }
  return f;
}

}  // namespace

void gumbel_rows_avx512(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out) {
  const AvxKey k(rng.key());
  int64_t r = 0;
  int e = 0;
  if (n % 16 == 0 && n / 16 <= kMaxFullRegs) {
    const int64_t made = gumbel_full_blocks(k, row0, rows, n, logp, scale, out);
    r = made / (n / 16);
    e = static_cast<int>(16 * (made % (n / 16)));
  }
  Reg g[kRegsPerBlock];
  int m = 0;
  for (; r < rows; ++r, e = 0) {
    for (; e < n; e += 16) {
      g[m++] = {static_cast<uint32_t>(row0 + r), e, live_of(e, n), out + r * n + e};
      if (m == kRegsPerBlock) {
        gumbel_regs<kRegsPerBlock>(k, g, logp, scale);
        m = 0;
      }
    }
  }
  if (m > 0) gumbel_tail(k, g, m, logp, scale);
}

void gumbel_row_avx512(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out) {
  gumbel_rows_avx512(rng, row, 1, n, logp, scale, out);
}

}  // namespace moesim::workload_detail

#pragma GCC pop_options

namespace moesim::workload_detail {

bool gumbel_avx512_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("vaes");
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace moesim::workload_detail
