// routing/hash.cpp: Hash Layers (Roller et al. 2021, "Hash Layers For Large Sparse Models"), a
// load-balanced baseline: each token goes to k distinct experts chosen by a hash of the token, not by the
// scores. The hash of the logits row bytes stands in for the token id. Weights: 1/k, times scaling.
#include "routing/hash_router.hpp"
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

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
    for (int64_t t = 0; t < rows; ++t) {
      const uint64_t h = hash_row(x + t * n, n);
      sel.reset();
      for (int e = 0; e < n; ++e) sel.offer(mix64(h ^ salt[e]), e);
      int s = 0;
      for (const auto& c : sel.best()) {
        expert[t * k + s] = c.index;
        weight[t * k + s++] = w;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Router> make_hash_router(const RouterSpec& spec) { return std::make_unique<HashRouter>(spec); }

}  // namespace moesim::routing
