// routing/moge.cpp: Mixture of Grouped Experts (Pangu Pro MoE, arXiv 2505.21411 section 2; routing.md
// section 2). Global softmax (or sigmoid) over all experts, then the best k/groups inside each group of
// consecutive experts. Slots: group 0's picks first, each group's picks best first.
// No bias and one pick per group (Pangu Pro): the group argmax of the logits (a vectorised segmented
// max), the global max is the largest of them, and only the softmax denominator needs every expert.
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
    const Kernels& kern = kernels();
    TopKScratch scratch(n);
    std::vector<float> prob(static_cast<size_t>(n));  // [experts], one token's scores
    std::vector<float> key(static_cast<size_t>(n));   // [experts], prob + bias
    for (int64_t t = begin; t < end; ++t) {
      const float* x = scores.data() + t * n;
      if (t + kPrefetchRows < scores.rows()) prefetch_row(x + kPrefetchRows * n, n);
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      if (bias.empty() && k_group == 1) {
        kern.group_top1(x, n, per_group, ex);
        chosen_scores(x, ex, w);
      } else {
        score_row(spec_.scoring, x, n, prob.data());
        const float* kv = x;  // selection keys: logits, or prob + bias
        if (!bias.empty()) {
          for (int e = 0; e < n; ++e) key[e] = prob[e] + bias[e];
          kv = key.data();
        }
        for (int g = 0; g < groups; ++g) {
          const Range r{g * per_group, (g + 1) * per_group};
          kern.topk(kv, &r, 1, k_group, ex + g * k_group, scratch);
        }
        for (int s = 0; s < k; ++s) w[s] = prob[ex[s]];
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  // w[g] = score of ex[g], the argmax of group g, bit-identical to score_row's. x: [experts] logits.
  void chosen_scores(const float* x, const int32_t* ex, float* w) const {
    const Kernels& kern = kernels();
    const int k = spec_.k;
    float m = x[ex[0]];  // the row max is the largest group max
    for (int s = 1; s < k; ++s) m = std::max(m, x[ex[s]]);
    const bool softmax = spec_.scoring == ScoringFunc::softmax;
    const double sum = softmax ? kern.exp_sum(x, spec_.num_experts, m, nullptr) : 0.0;
    kern.scores_at(x, ex, k, spec_.scoring, m, sum, w);
  }
};

}  // namespace

std::unique_ptr<Router> make_moge_router(const RouterSpec& spec) { return std::make_unique<MogeRouter>(spec); }

}  // namespace moesim::routing
