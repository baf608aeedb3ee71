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

// Natural log of a positive normal float, branch-free so that loops over it vectorise and give the
// same bits whether vectorised or not. x = m * 2^k with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
// s = (m - 1) / (m + 1), |s| <= 0.172, series to s^9 (truncation < 1e-9 relative). m - 1 is exact, so
// log(x) for x just below 1 keeps full relative precision (needed for -log(-log(u)) as u -> 1).
inline float fast_log(float x) {
  const uint32_t ix = std::bit_cast<uint32_t>(x) - 0x3f3504f3u;  // 0x3f3504f3 = bits of sqrt(1/2)
  const int32_t k = static_cast<int32_t>(ix) >> 23;
  const float m = std::bit_cast<float>((ix & 0x007fffffu) + 0x3f3504f3u);
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float r = z * (0.66666667f + z * (0.4f + z * (0.28571429f + z * 0.22222222f)));
  const float log_m = 2.0f * s + s * r;
  const float kf = static_cast<float>(k);
  return kf * 6.9313812256e-01f + (log_m + kf * 9.0580006145e-06f);  // ln 2 = hi + lo (musl split)
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
