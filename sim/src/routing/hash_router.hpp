// routing/hash_router.hpp: the hash the `hash` router uses (shared with the test reference, since the
// hash itself is part of the router's definition).
#pragma once

#include "moesim/rng.hpp"

#include <cstdint>
#include <cstring>

namespace moesim::routing {

// 64-bit hash of the bytes of a logits row ([experts] fp32): it stands in for the token id, so the same
// row content always hashes the same. Words of 8 bytes (a trailing 4) are folded multiply-xorshift style,
// then finalised with splitmix64. hash_rows does R rows of n values at once (row r at x + r * n), their
// multiply chains side by side (one row's chain of n / 2 dependent multiplies alone leaves the core
// idle; the router takes 4 at a time).
template <int R>
inline void hash_rows(const float* x, int n, uint64_t* h) {
  for (int r = 0; r < R; ++r) h[r] = 0x6a09e667f3bcc908ULL ^ static_cast<uint64_t>(n);
  int i = 0;
  for (; i + 1 < n; i += 2)
    for (int r = 0; r < R; ++r) {
      uint64_t w;
      std::memcpy(&w, x + static_cast<int64_t>(r) * n + i, sizeof w);
      h[r] = (h[r] ^ w) * 0x9fb21c651e98df25ULL;
      h[r] ^= h[r] >> 29;
    }
  for (int r = 0; r < R; ++r) {
    if (i < n) {
      uint32_t w;
      std::memcpy(&w, x + static_cast<int64_t>(r) * n + i, sizeof w);
      h[r] = (h[r] ^ w) * 0x9fb21c651e98df25ULL;
      h[r] ^= h[r] >> 29;
    }
    h[r] = mix64(h[r]);
  }
}

// One row: the hash the reference and the router's last rows use.
inline uint64_t hash_row(const float* x, int n) {
  uint64_t h;
  hash_rows<1>(x, n, &h);
  return h;
}

// Expert e's key for a token with row hash h: the router takes the k experts with the largest keys
// (equal keys -> lower expert), which is k distinct experts drawn uniformly without replacement.
inline uint64_t hash_expert_key(uint64_t h, int e) { return mix64(h ^ mix64(static_cast<uint64_t>(e))); }

}  // namespace moesim::routing
