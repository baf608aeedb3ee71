// routing/moge.cpp: Mixture of Grouped Experts (Pangu Pro MoE, arXiv 2505.21411 section 2; routing.md
// section 2). Global softmax (or sigmoid) over all experts, then the best k/groups inside each group of
// consecutive experts. Slots: group 0's picks first, each group's picks best first.
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

namespace moesim::routing {

namespace {

class MogeRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // scores: [tokens, experts] logits; out.expert / out.weight: [tokens, k].
  void route_rows(const Scores& scores, std::span<const float> bias, int64_t begin, int64_t end,
                  Assignments& out) const override {
    const int n = spec_.num_experts, k = spec_.k, groups = spec_.groups;
    const int per_group = n / groups, k_group = k / groups;
    Selector<float> sel(per_group, k_group);
    std::vector<float> prob(static_cast<size_t>(n));  // [experts], one token's scores
    for (int64_t t = begin; t < end; ++t) {
      const float* x = scores.data() + t * n;
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      score_row(spec_.scoring, x, n, prob.data());
      int s = 0;
      for (int g = 0; g < groups; ++g) {
        sel.reset();
        const int first = g * per_group;
        for (int e = first; e < first + per_group; ++e) sel.offer(bias.empty() ? x[e] : prob[e] + bias[e], e);
        for (const auto& c : sel.best()) {
          ex[s] = c.index;
          w[s++] = prob[c.index];
        }
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }
};

}  // namespace

std::unique_ptr<Router> make_moge_router(const RouterSpec& spec) { return std::make_unique<MogeRouter>(spec); }

}  // namespace moesim::routing
