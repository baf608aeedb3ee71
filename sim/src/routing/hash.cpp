// routing/hash.cpp: Hash Layers (Roller et al. 2021, "Hash Layers For Large Sparse Models"), a
// load-balanced baseline: each token goes to k distinct experts chosen by a hash of the token, not by the
// scores. The hash of the logits row bytes stands in for the token id. Weights: 1/k, times scaling.
#include "routing/hash_router.hpp"
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace moesim::routing {

namespace {

class HashRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // x: [rows, experts] logits (hashed, not ranked); bias ignored; expert / weight: [rows, k].
  void route_rows(const float* x, int64_t rows, std::span<const float>, int32_t* expert, float* weight) const override {
    const int n = spec_.num_experts, k = spec_.k;
    const float w = static_cast<float>(spec_.scaling / k);
    Selector<uint64_t> sel(n, k);
    std::vector<uint64_t> salt(static_cast<size_t>(n));  // [experts] mix64(e), see hash_expert_key
    for (int e = 0; e < n; ++e) salt[e] = mix64(static_cast<uint64_t>(e));
    std::vector<uint64_t> key(static_cast<size_t>(n));  // [experts] one token's keys
    std::vector<int32_t> listed(static_cast<size_t>(n));  // [experts] those above the guess (choose)
    constexpr int R = 4;
    for (int64_t t0 = 0; t0 < rows; t0 += R) {
      uint64_t h[R];
      const int m = static_cast<int>(std::min<int64_t>(R, rows - t0));
      if (m == R) {
        hash_rows<R>(x + t0 * n, n, h);
      } else {
        for (int r = 0; r < m; ++r) h[r] = hash_row(x + (t0 + r) * n, n);
      }
      for (int r = 0; r < m; ++r) {
        choose(h[r], salt.data(), key.data(), listed.data(), sel);
        int s = 0;
        for (const auto& c : sel.best()) {
          expert[(t0 + r) * k + s] = c.index;
          weight[(t0 + r) * k + s++] = w;
        }
      }
    }
  }

 private:
  // Offers the token's experts to sel, keys mix64(h ^ salt[e]) (hash_expert_key). The keys are uniform
  // on [0, 2^64), so about 2k of them lie above guess = 2^64 (1 - 2k / n): those are listed while the
  // keys are made. When at least k are listed, the k-th best key is >= guess and every chosen expert is
  // among them; offered in increasing e as before, the same k come out in the same order. Otherwise
  // (about 1% of tokens at k = 8 of 256) every key is offered. Only the speed depends on the guess.
  void choose(uint64_t h, const uint64_t* salt, uint64_t* key, int32_t* listed, Selector<uint64_t>& sel) const {
    const int n = spec_.num_experts, k = spec_.k;
    const uint64_t guess =
        2 * k >= n ? 0 : std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() / n * (2 * k);
    int count = 0;
    for (int e = 0; e < n; ++e) {
      key[e] = mix64(h ^ salt[e]);
      listed[count] = e;
      count += key[e] >= guess;
    }
    sel.reset();
    if (count >= k) {
      for (int i = 0; i < count; ++i) sel.offer(key[listed[i]], listed[i]);
    } else {
      for (int e = 0; e < n; ++e) sel.offer(key[e], e);
    }
  }
};

}  // namespace

std::unique_ptr<Router> make_hash_router(const RouterSpec& spec) { return std::make_unique<HashRouter>(spec); }

}  // namespace moesim::routing
