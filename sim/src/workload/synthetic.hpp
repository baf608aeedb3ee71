// workload/synthetic.hpp (internal): the synthetic skew workload and its random streams.
#pragma once

#include "moesim/rng.hpp"
#include "workload/ars.hpp"
#include "moesim/workload.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
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

// Natural log of a positive normal float, branch-free and division-free, so that loops over it vectorise
// and give the same bits whether vectorised or not, and in the form AVX-512's VGETEXPPS/VGETMANTPS give
// directly: x = 2^k m with m in [1, 2), and z = m (m < 1.5) or m / 2 (m >= 1.5), so z in [0.75, 1.5) and
// log x = k ln2 + log z + [m >= 1.5] ln2. The top 4 bits of z's mantissa pick one of 16 subintervals
// (z >= 1: width 1/16; z < 1: width 1/32) with a point c near its centre; c = 1 exactly for [0.96875, 1), so
// log(x) for x just below 1 keeps full relative precision, as -log(-log(u)) needs for u -> 1. Then
// log x = k ln2 + T + log1p(r), r = z / c - 1 (one fma, |r| < 0.032), T = log c + [m >= 1.5] ln2 (in fp32:
// each 1 / c was chosen, within 0.03 of the centre's, so that T is within 3e-12 of a float; T = ln2
// exactly for c = 1, so k = -1 cancels it exactly), log1p(r) to r^Terms. Measured on every float (double
// reference): Terms = 5 is at most 1.07 ulp from log x on [2^-24, 1) (the uniforms) and within 2.4e-7
// (1 ulp of log 17) on [1, 17]; the Gumbel noise -log(-log u) with Terms 5 inside and 4 outside is at most
// 2.9 ulp off for |g| > 0.5 and 1e-6 (one ulp of g near 16) everywhere, over all 2^23 uniforms
// (tests/unit/test_workload.cpp checks a sample of both).
namespace log_const {
// 1 / c (fp32) and T = [i >= 8] kLn2 - log(fp32 1 / c) (rounded from long double) of the 16 subintervals.
alignas(64) inline constexpr float kInvC[16] = {
    0.97056818f, 0.913425744f, 0.86409837f, 0.821119666f, 0.781135321f, 0.744657218f, 0.710069656f, 0.680412114f,
    1.30795872f, 1.25578082f,  1.20758951f, 1.16573131f,  1.12442291f,  1.08354962f,  1.04718482f,  1.0f};
alignas(64) inline constexpr float kT[16] = {
    0.0298736263f, 0.0905531943f, 0.146068662f, 0.197086424f, 0.247006878f, 0.294831276f, 0.342392206f, 0.385056615f,
    0.424679488f,  0.465389639f,  0.504520953f, 0.539798558f, 0.575877249f, 0.612904847f, 0.647041738f, 0.693147182f};
inline constexpr float kLn2 = 0.693147182f;
inline constexpr float kC2 = -0.5f, kC3 = 0.333333343f, kC4 = -0.25f, kC5 = 0.2f;  // log1p(r) ~ r + r^2 (kC2 + ...)
}  // namespace log_const

// Terms = 5 for the log of a uniform (relative precision near 1 matters there), 4 for the outer log of the
// Gumbel noise, whose error counts in absolute terms: the truncation r^5 / 5 < 7e-9 is far below the 6e-8
// ulp of any |g| > 0.5 (the noise's worst error is 2.86 ulp with 4 or with 5 terms).
template <int Terms = 5>
inline float fast_log(float x) {
  static_assert(Terms == 4 || Terms == 5);
  using namespace log_const;
  const uint32_t ix = std::bit_cast<uint32_t>(x);
  const float kf = static_cast<float>(static_cast<int32_t>(ix >> 23) - 127);               // VGETEXPPS
  const uint32_t iz = (ix & 0x007fffffu) | ((ix & 0x00400000u) ? 0x3f000000u : 0x3f800000u);  // VGETMANTPS
  const uint32_t i = (iz >> 19) & 15u;
  const float r = std::fma(std::bit_cast<float>(iz), kInvC[i], -1.0f);
  float p = Terms == 5 ? std::fma(std::fma(kC5, r, kC4), r, kC3) : std::fma(kC4, r, kC3);
  p = std::fma(p, r, kC2);
  const float l = std::fma(p, r * r, r);
  return std::fma(kf, kLn2, kT[i]) + l;
}

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

// One row of noise: out[e] = -fast_log<4>(-fast_log<5>(u[e])) (standard Gumbel) with u = rng.fill(row, n, .),
// then, if logp is not null, out[e] = scale * (logp[e] + out[e]). out, logp: [n].
using GumbelRowFn = void (*)(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
void gumbel_row_scalar(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
// The same bits with AVX-512 and VAES (gumbel_avx512.cpp): ARS-5 on 4 counters per register, the same
// IEEE operations as fast_log lane by lane. Only call when gumbel_avx512_supported().
void gumbel_row_avx512(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
bool gumbel_avx512_supported();
// The same for AVX-512 without VAES and VBMI (gumbel_avx512_aesni.cpp: the rounds by AES-NI). Only call
// when gumbel_avx512_aesni_supported().
void gumbel_row_avx512_aesni(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
bool gumbel_avx512_aesni_supported();
// gumbel_row_avx512 where the CPU has AVX-512 with VAES and VBMI, else gumbel_row_avx512_aesni where it
// has AVX-512 and AES-NI, else gumbel_row_scalar.
GumbelRowFn gumbel_row();

// Rows row0 .. row0 + rows - 1, each as gumbel_row makes it, into out: [rows, n]. The AVX-512 twin
// makes 8 registers of 16 values at a time across row boundaries (their rounds side by side), the same bits.
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
