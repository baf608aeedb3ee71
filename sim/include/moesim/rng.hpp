// moesim/rng.hpp: counter-based random numbers (Philox4x32-10, Random123).
// A value depends only on (seed, stream, counter): no state, so results are identical whatever
// the thread count or the order in which work is done.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstdint>

namespace moesim {

class Philox {
 public:
  // seed: the scenario seed; stream: names one independent use (e.g. a hash of "workload", layer).
  Philox(uint64_t seed, uint64_t stream) {
    key_ = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
    stream_lo_ = static_cast<uint32_t>(stream);
    stream_hi_ = static_cast<uint32_t>(stream >> 32);
  }

  // Four independent 32-bit words for counter c.
  std::array<uint32_t, 4> words(uint64_t c) const {
    r123::Philox4x32::ctr_type ctr = {{static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), stream_lo_, stream_hi_}};
    r123::Philox4x32::key_type key = {{key_[0], key_[1]}};
    auto r = r123::Philox4x32()(ctr, key);
    return {r[0], r[1], r[2], r[3]};
  }

  // Uniform in the open interval (0, 1) from a 32-bit word: (w + 0.5) / 2^32 in double.
  static double to_unit_open_d(uint32_t w) { return (static_cast<double>(w) + 0.5) * (1.0 / 4294967296.0); }

 private:
  std::array<uint32_t, 2> key_{};
  uint32_t stream_lo_ = 0, stream_hi_ = 0;
};

// Standard normal from two uniforms (Box-Muller, first output).
inline double standard_normal(double u1, double u2) {
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// 64-bit mix (splitmix64 finaliser) to derive stream ids from small integers.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace moesim
