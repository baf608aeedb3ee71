// workload/synthetic.hpp (internal): the synthetic skew workload and its random streams.
#pragma once

#include "moesim/rng.hpp"
#include "workload/ars.hpp"
#include "moesim/workload.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <numbers>
#include <vector>

namespace moesim::workload_detail {

// What a random stream is used for; mixed into the stream id so that no two uses share numbers.
enum class Purpose : uint64_t {
  token_noise = 1,     // Gumbel noise per (token, expert)
  sequence_noise = 2,  // Gumbel noise per (sequence, expert)
  rank_order = 3,      // zipf: which expert holds which rank
  lognormal_z = 4,     // lognormal: z per expert
  layer_noise = 5,     // layer_sigma: z per (layer, expert)
  drift = 6,           // drift: z per (step, layer, expert), one random-walk increment
};

// Stream id of one (step, layer, purpose). Popularity draws do not depend on the step: they use step 0.
inline uint64_t stream_id(uint64_t step, uint64_t layer, Purpose purpose) {
  return mix64(mix64(mix64(static_cast<uint64_t>(purpose)) ^ step) ^ layer);
}

// The Gumbel noise g = -log(-log u) of a uniform u in (0, 1), as two table-driven logs, branch-free and
// division-free, so that loops over them vectorise and give the same bits whether vectorised or not, in
// the form AVX-512's VGETEXPPS/VGETMANTPS give directly: x = 2^k m with m in [1, 2), and z = m (m < 1.5)
// or m / 2 (m >= 1.5), so z in [0.75, 1.5); the top 4 bits of z's mantissa pick one of 16 subintervals
// (z >= 1: width 1/16; z < 1: width 1/32), i = 15 being [0.96875, 1), with a point c near its centre.
//
// The inner log in base 2, y = -log2 u = -(k + [m >= 1.5] + log2 c + log2(1 + rho)), rho = z / c - 1, with
// no multiply by ln 2 anywhere: r = z A - K in one fma (K = fp32 1 / ln 2, A = K / c a table entry, so r =
// K rho before rounding), y = (-T2 - k) - r (1 + r q(r)) (Horner's form: the last step one fma), where T2 =
// [m >= 1.5] + log2 c (each A chosen within 2^-10 of K / (the centre) so that T2 is within 1e-11 of a
// float; c = 1 exactly for i = 15, so T2 = 1 and k = -1 cancel exactly and y keeps its relative precision
// as u -> 1) and r (1 + r q(r)), q a quadratic, is within 3.1e-8 relative of K log(1 + r / K) = (1 +
// 1.3e-8) log2(1 + rho) on the subintervals (|r| < 0.046; the factor K ln 2 is fp32 rounding of 1 / ln 2).
// The outer log then only needs log y: g = -log(ln2 y) = -(k ln2 + T + log(ln 2) + log(1 + r)), r = z / c
// - 1 (|r| < 0.032), log(1 + r) ~ r (1 + r (b2 + b3 r)), T' = T + log(ln 2) one table. That is 5 FMAs a
// log and no multiply, not 6 and 7 operations on the multiply pipes, where the noise's cost is (on Zen 4
// FMAs and AES rounds share two pipes, adds, shifts and VGETEXP/VGETMANT the other two, and every 512-bit
// operation costs about 0.6 cycles in this loop: bench/README.md, run U). The coefficients are minimax
// fits (Lawson's iteration) nudged a few ulps so that, over all 2^23 uniforms against a double reference,
// y is at most 2.16 ulp from -log2 u and g at most 2.88 ulp from -log(-log u) where |g| > 0.5, within
// 1.04e-6 (1.1 ulp of g near 8.3, u -> 1) everywhere (tests/unit/test_workload.cpp checks every 7th).
namespace log_const {
// A = K / c (fp32, c implied) and -T2 = -([i >= 8] + log2 c) (rounded from 40 digits) of the inner log.
alignas(64) inline constexpr float kA[16] = {
    1.3989196f, 1.3185579f, 1.2473036f, 1.1842961f, 1.126475f,  1.0745981f, 1.024942f,  0.98240525f,
    1.8844485f, 1.8105835f, 1.742673f,  1.6787713f, 1.6193379f, 1.5653938f, 1.5129228f, 1.442695f};
alignas(64) inline constexpr float kNegT2[16] = {
    -0.044453323f, -0.12980548f, -0.20995368f, -0.28473648f, -0.3569511f, -0.4249692f, -0.49322402f, -0.5543762f,
    -0.61462396f,  -0.67231166f, -0.72746444f, -0.7813607f,  -0.8333623f, -0.8822407f, -0.931428f,   -1.0f};
inline constexpr float kInvLn2 = std::numbers::log2e_v<float>;  // K, 1 / ln 2 rounded to fp32 (1.44269502)
static_assert(kA[15] == kInvLn2 && kNegT2[15] == -1.0f, "c = 1 in [0.96875, 1): A = K and T2 = 1 exactly");
inline constexpr float kA2 = -0.34657356f, kA3 = 0.1602263f, kA4 = -0.08344408f;  // q(r) = kA2 + r (kA3 + r kA4)
// 1 / c (fp32) and T' = [i >= 8] ln 2 - log(fp32 1 / c) + log(ln 2) (rounded from 40 digits) of the outer log.
alignas(64) inline constexpr float kInvC[16] = {
    0.97056818f, 0.913425744f, 0.86409837f, 0.821119666f, 0.781135321f, 0.744657218f, 0.710069656f, 0.680412114f,
    1.30795872f, 1.25578082f,  1.20758951f, 1.16573131f,  1.12442291f,  1.08354962f,  1.04718482f,  1.0f};
alignas(64) inline constexpr float kTOuter[16] = {
    -0.33663929f, -0.27595973f, -0.22044426f, -0.1694265f, -0.11950604f, -0.07168164f, -0.024120715f, 0.018543694f,
    0.058166567f, 0.098876715f, 0.13800803f,  0.17328563f, 0.20936432f,  0.24639192f,  0.2805288f,    0.32663426f};
inline constexpr float kLn2 = std::numbers::ln2_v<float>;  // ln 2 rounded to fp32 (0.693147182)
inline constexpr float kB2 = -0.5001596f, kB3 = 0.33353493f;  // log(1 + r) ~ r (1 + r (kB2 + kB3 r))
}  // namespace log_const

// k (as a float), z in [0.75, 1.5) and the subinterval i of a positive normal float, as above.
struct LogSplit {
  float kf, z;
  uint32_t i;
};
inline LogSplit log_split(float x) {
  const uint32_t ix = std::bit_cast<uint32_t>(x);
  const float kf = static_cast<float>(static_cast<int32_t>(ix >> 23) - 127);               // VGETEXPPS
  const uint32_t iz = (ix & 0x007fffffu) | ((ix & 0x00400000u) ? 0x3f000000u : 0x3f800000u);  // VGETMANTPS
  return {kf, std::bit_cast<float>(iz), (ix >> 19) & 15u};  // z's top 4 mantissa bits are x's
}

// y = -log2 u for u in (0, 1) (any positive normal float; the accuracy above is measured on the uniforms).
inline float neg_log2(float u) {
  using namespace log_const;
  const LogSplit s = log_split(u);
  const float r = std::fma(s.z, kA[s.i], -kInvLn2);
  const float q = std::fma(std::fma(kA4, r, kA3), r, kA2);
  return std::fma(-std::fma(q, r, 1.0f), r, kNegT2[s.i] - s.kf);
}

// g = -log(ln2 y) for y > 0 normal: the Gumbel noise -log(-log u) of y = neg_log2(u).
inline float gumbel_of_neg_log2(float y) {
  using namespace log_const;
  const LogSplit s = log_split(y);
  const float r = std::fma(s.z, kInvC[s.i], -1.0f);
  const float q = std::fma(kB3, r, kB2);
  return std::fma(-std::fma(q, r, 1.0f), r, -std::fma(s.kf, kLn2, kTOuter[s.i]));
}

// The standard Gumbel noise of a uniform in (0, 1).
inline float gumbel_noise(float u) { return gumbel_of_neg_log2(neg_log2(u)); }

// Uniforms of one row (token or sequence) from ARS-5 (ars.hpp): value e of row `row` is word e % 4 of the
// counter {e / 4, row, stream_lo, stream_hi} under the key {seed_lo, seed_hi, 0, 0}, made into a uniform
// by to_unit_open. Computed 16 counters at a time (AES-NI where the CPU has it, else in software:
// the same bits).
class RowUniforms {
 public:
  static constexpr int kBlock = 16;  // counters per call of ars::ars_counters = 64 values

  // The round keys and the constant counter words (stream), for the vectorised twin of fill.
  struct Key {
    ars::RoundKeys rk;
    uint32_t stream_lo, stream_hi;
  };

  RowUniforms(uint64_t seed, uint64_t stream)
      : key_{ars::round_keys({static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), 0u, 0u}),
             static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)} {}

  const Key& key() const { return key_; }

  // Uniform in the open interval (0, 1) from the low 23 bits k of a word: (k + 0.5) 2^-23, so 2^-24 <= u
  // <= 1 - 2^-24, exactly representable (never 0, never 1). (The low bits: the AVX-512 twin makes it from
  // them without a shift or a conversion, gumbel_avx512.cpp.)
  static float to_unit_open(uint32_t w) { return (static_cast<float>(w & 0x007fffffu) + 0.5f) * (1.0f / 8388608.0f); }

  // out[e] = uniform in (0, 1) for e in [0, n_values). out: [n_values].
  void fill(int64_t row, int n_values, float* out) const {
    const int n_counters = (n_values + 3) / 4;
    for (int q0 = 0; q0 < n_counters; q0 += kBlock) {
      uint32_t words[4 * kBlock];  // values 4 q0 .. in order
      const int n = std::min(kBlock, n_counters - q0);
      ars::ars_counters(static_cast<uint32_t>(q0), static_cast<uint32_t>(row), key_.stream_lo, key_.stream_hi, key_.rk,
                        n, words);
      const int m = std::min(4 * n, n_values - 4 * q0);
      for (int i = 0; i < m; ++i) out[4 * q0 + i] = to_unit_open(words[i]);
    }
  }

 private:
  Key key_;
};

// One row of noise: out[e] = gumbel_noise(u[e]) (standard Gumbel) with u = rng.fill(row, n, .),
// then, if logp is not null, out[e] = scale * (logp[e] + out[e]). out, logp: [n].
using GumbelRowFn = void (*)(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
void gumbel_row_scalar(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
// The same bits with AVX-512 and VAES (gumbel_avx512.cpp): ARS-5 on 4 counters per register, the same
// IEEE operations as gumbel_noise lane by lane. Only call when gumbel_avx512_supported().
void gumbel_row_avx512(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
bool gumbel_avx512_supported();
// The same for AVX-512 without VAES (gumbel_avx512_aesni.cpp: the rounds by AES-NI). Only call
// when gumbel_avx512_aesni_supported().
void gumbel_row_avx512_aesni(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
bool gumbel_avx512_aesni_supported();
// gumbel_row_avx512 where the CPU has AVX-512 with VAES, else gumbel_row_avx512_aesni where it
// has AVX-512 and AES-NI, else gumbel_row_scalar.
GumbelRowFn gumbel_row();

// Rows row0 .. row0 + rows - 1, each as gumbel_row makes it, into out: [rows, n]. The AVX-512 twin
// makes registers of 16 values a few at a time across row boundaries (gumbel_avx512.cpp), the same bits.
using GumbelRowsFn = void (*)(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp,
                              float scale, float* out);
void gumbel_rows_scalar(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out);
void gumbel_rows_avx512(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out);
void gumbel_rows_avx512_aesni(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp,
                              float scale, float* out);
GumbelRowsFn gumbel_rows();

std::unique_ptr<Workload> make_synthetic_workload(const WorkloadInput& in);

// n standard normals from one Philox stream (Box-Muller, 4 words per counter). out: [n]. (popularity.cpp)
void fill_normals(const Philox& rng, int n, std::vector<double>& out);

// Drift of popularity over steps (workload.drift > 0; drift.cpp): log p_t[e] = log p_0[e] + W_t[e], with
// W_t[e] = drift * (z_1[e] + ... + z_t[e]) and z_s standard normals from the Philox stream keyed by
// (seed, step s, layer, Purpose::drift). Each layer's walk is cached at the last step asked for and
// advanced from there (or restarted from 0 for an earlier step); increments are always added in step
// order, so a value depends only on (seed, layer, step), never on the calls before it.
class DriftWalk {
 public:
  explicit DriftWalk(const WorkloadInput& in);
  ~DriftWalk();
  // Normalised log popularity at (layer, step): [num_experts], log of values summing to 1.
  std::vector<float> log_popularity(int layer, int64_t step) const;

 private:
  struct State;
  void walk_to(State& st, int layer, int64_t step) const;
  WorkloadInput in_;
  std::vector<std::unique_ptr<State>> states_;  // [num_layers]; each guarded by its own mutex
};

}  // namespace moesim::workload_detail
