// routing/hash_router.hpp: the hash the `hash` router uses (shared with the test reference, since the
// hash itself is part of the router's definition).
#pragma once

#include "moesim/rng.hpp"

#include <cstdint>
#include <cstring>

namespace moesim::routing {

// 64-bit hash of the bytes of one logits row, x: [experts] fp32. It stands in for the token id: the same
// row content always hashes the same. Words of 8 bytes (a trailing 4) are folded multiply-xorshift style,
// then finalised with splitmix64.
inline uint64_t hash_row(const float* x, int n) {
  uint64_t h = 0x6a09e667f3bcc908ULL ^ static_cast<uint64_t>(n);
  int i = 0;
  for (; i + 1 < n; i += 2) {
    uint64_t w;
    std::memcpy(&w, x + i, sizeof w);
    h = (h ^ w) * 0x9fb21c651e98df25ULL;
    h ^= h >> 29;
  }
  if (i < n) {
    uint32_t w;
    std::memcpy(&w, x + i, sizeof w);
    h = (h ^ w) * 0x9fb21c651e98df25ULL;
    h ^= h >> 29;
  }
  return mix64(h);
}

// Expert e's key for a token with row hash h: the router takes the k experts with the largest keys
// (equal keys -> lower expert), which is k distinct experts drawn uniformly without replacement.
inline uint64_t hash_expert_key(uint64_t h, int e) { return mix64(h ^ mix64(static_cast<uint64_t>(e))); }

}  // namespace moesim::routing
