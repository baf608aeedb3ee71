// workload/synthetic.hpp (internal): the synthetic skew workload and its random streams.
#pragma once

#include "moesim/rng.hpp"
#include "moesim/workload.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

namespace moesim::workload_detail {

// What a Philox stream is used for; mixed into the stream id so that no two uses share numbers.
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

// Philox counter of the 4 words that hold entity `row` (token or sequence), experts 4q .. 4q+3.
inline uint64_t row_counter(int64_t row, int64_t q) {
  return (static_cast<uint64_t>(row) << 32) | static_cast<uint32_t>(q);
}

// Natural log of a positive normal float, branch-free and division-free, so that loops over it vectorise
// and give the same bits whether vectorised or not. x = 2^k z with z in [0.699, 1.398) (k, z from the
// bits of x - 0x3f330000); the top 4 bits of z's mantissa pick one of 16 subintervals with a centre c
// (c = 1 exactly for the one holding 1, so log(x) for x just below 1 keeps full relative precision, as
// -log(-log(u)) needs for u -> 1); log x = k ln2 + log c + log1p(r), r = z / c - 1 (one fma, |r| < 0.03),
// log1p(r) to r^5 (truncation < 1.2e-10). At most 2 ulp from the correctly rounded log on [2^-24, 17]
// (checked on every float there; tests/unit/test_workload.cpp samples it).
namespace log_const {
inline constexpr uint32_t kOff = 0x3f330000u;  // bits of 0.69921875: z starts there
// 1 / c (fp32) and log c = -log(fp32 1 / c) (rounded from double) of the 16 subintervals.
alignas(64) inline constexpr float kInvC[16] = {
    1.39890707f, 1.34031415f, 1.28643215f, 1.23671496f, 1.19069767f, 1.14798212f, 1.10822511f, 1.07112968f,
    1.03643727f, 1.0f,        0.948148131f, 0.895104885f, 0.847682118f, 0.805031419f, 0.766467094f, 0.731428564f};
alignas(64) inline constexpr float kLogC[16] = {
    -0.335691273f, -0.292904019f, -0.251872599f, -0.21245864f, -0.174539417f, -0.138005719f, -0.102759734f,
    -0.0687138662f, -0.0357891321f, 0.0f, 0.0532445312f, 0.110814378f, 0.165249571f, 0.216873974f, 0.265963525f,
    0.312755734f};
inline constexpr float kLn2 = 0.693147182f;
inline constexpr float kC2 = -0.5f, kC3 = 0.333333343f, kC4 = -0.25f, kC5 = 0.2f;  // log1p(r) ~ r + r^2 (kC2 + ...)
}  // namespace log_const

inline float fast_log(float x) {
  using namespace log_const;
  const uint32_t ix = std::bit_cast<uint32_t>(x);
  const uint32_t tmp = ix - kOff;
  const int32_t k = static_cast<int32_t>(tmp) >> 23;
  const uint32_t i = (tmp >> 19) & 15u;
  const float z = std::bit_cast<float>(ix - (tmp & 0xff800000u));
  const float r = std::fma(z, kInvC[i], -1.0f);
  float p = std::fma(kC5, r, kC4);
  p = std::fma(p, r, kC3);
  p = std::fma(p, r, kC2);
  const float l = std::fma(p, r * r, r);
  return std::fma(static_cast<float>(k), kLn2, kLogC[i]) + l;
}

// Uniforms of one row (token or sequence) from Philox4x32-10, computed for up to kBlock counters at
// once as a structure of arrays so that the compiler vectorises the rounds (4 or 8 lanes). Bit-for-bit
// the same words as Philox(seed, stream).words(row_counter(row, q)) (tested): value e of the row is
// word e % 4 of counter q = e / 4.
class RowUniforms {
 public:
  static constexpr int kBlock = 16;  // counters per round loop = 64 values

  // The Philox key and the constant counter words (stream), for the vectorised twin of fill.
  struct Key {
    uint32_t key0, key1, stream_lo, stream_hi;
  };

  RowUniforms(uint64_t seed, uint64_t stream)
      : key0_(static_cast<uint32_t>(seed)), key1_(static_cast<uint32_t>(seed >> 32)),
        stream_lo_(static_cast<uint32_t>(stream)), stream_hi_(static_cast<uint32_t>(stream >> 32)) {}

  Key key() const { return {key0_, key1_, stream_lo_, stream_hi_}; }

  // out[e] = uniform in (0, 1) for e in [0, n_values). out: [n_values].
  void fill(int64_t row, int n_values, float* out) const {
    const int n_counters = (n_values + 3) / 4;
    for (int q0 = 0; q0 < n_counters; q0 += kBlock) {
      uint32_t x[4][kBlock];
      philox_block(row, static_cast<uint32_t>(q0), x);
      const int n = std::min(kBlock, n_counters - q0);
      if (4 * (q0 + n) <= n_values) {
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < 4; ++j) out[4 * (q0 + i) + j] = Philox::to_unit_open(x[j][i]);
      } else {
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < 4 && 4 * (q0 + i) + j < n_values; ++j) out[4 * (q0 + i) + j] = Philox::to_unit_open(x[j][i]);
      }
    }
  }

 private:
  // x[j][i] = word j of Philox4x32-10 at counter {q0 + i, row, stream_lo, stream_hi}, key {key0, key1}.
  void philox_block(int64_t row, uint32_t q0, uint32_t (&x)[4][kBlock]) const {
    for (int i = 0; i < kBlock; ++i) {
      x[0][i] = q0 + static_cast<uint32_t>(i);
      x[1][i] = static_cast<uint32_t>(row);
      x[2][i] = stream_lo_;
      x[3][i] = stream_hi_;
    }
    uint32_t k0 = key0_, k1 = key1_;
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < kBlock; ++i) {
        const uint64_t p0 = uint64_t{0xD2511F53u} * x[0][i];
        const uint64_t p1 = uint64_t{0xCD9E8D57u} * x[2][i];
        const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x[1][i] ^ k0;
        const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x[3][i] ^ k1;
        x[0][i] = y0;
        x[1][i] = static_cast<uint32_t>(p1);
        x[2][i] = y2;
        x[3][i] = static_cast<uint32_t>(p0);
      }
      k0 += 0x9E3779B9u;  // Weyl key schedule
      k1 += 0xBB67AE85u;
    }
  }

  uint32_t key0_, key1_, stream_lo_, stream_hi_;
};

// One row of noise: out[e] = -fast_log(-fast_log(u[e])) (standard Gumbel) with u = rng.fill(row, n, .),
// then, if logp is not null, out[e] = scale * (logp[e] + out[e]). out, logp: [n].
using GumbelRowFn = void (*)(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
void gumbel_row_scalar(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
// The same bits with AVX-512 (gumbel_avx512.cpp): Philox on 8 counters per register, the same IEEE
// operations as fast_log lane by lane. Only call when gumbel_avx512_supported().
void gumbel_row_avx512(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out);
bool gumbel_avx512_supported();
// gumbel_row_avx512 where the CPU has AVX-512, else gumbel_row_scalar.
GumbelRowFn gumbel_row();

// Rows row0 .. row0 + rows - 1, each as gumbel_row makes it, into out: [rows, n]. The AVX-512 twin
// makes rows of 32 and 64 values four and two at a time (their Philox rounds side by side), the same bits.
using GumbelRowsFn = void (*)(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp,
                              float scale, float* out);
void gumbel_rows_scalar(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out);
void gumbel_rows_avx512(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out);
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
