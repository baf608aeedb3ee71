// routing/group_limited.cpp: DeepSeek-V3 group-limited routing (arXiv 2412.19437 section 2.1.2;
// deepseek-ai/DeepSeek-V3 inference/model.py `Gate`; routing.md section 4), in the reference order:
//   s = sigmoid|softmax(logits); biased = s + bias (selection only);
//   group score = max of the group's scores with no bias, else the sum of its top-2 biased scores;
//   keep the topk_group best groups (tie -> lower group), mask the rest with -inf;
//   top-k of the masked (biased) scores; weights = s there, normalised if asked, times scaling.
// With no bias the selection runs on the logits (same order as s, see routing_common.hpp).
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

namespace moesim::routing {

namespace {

class GroupLimitedRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // scores: [tokens, experts] logits; out.expert / out.weight: [tokens, k].
  void route_rows(const Scores& scores, std::span<const float> bias, int64_t begin, int64_t end,
                  Assignments& out) const override {
    const int n = spec_.num_experts, k = spec_.k, groups = spec_.groups;
    const int kept_groups = spec_.topk_group == 0 ? groups : spec_.topk_group;
    Selector<float> group_sel(groups, kept_groups);
    Selector<float> expert_sel(n, k);
    std::vector<float> prob(static_cast<size_t>(n));  // [experts] s, one token's scores
    std::vector<float> key(static_cast<size_t>(n));   // [experts] selection keys: logits or s + bias
    std::vector<uint8_t> kept(static_cast<size_t>(groups));
    for (int64_t t = begin; t < end; ++t) {
      const float* x = scores.data() + t * n;
      score_row(spec_.scoring, x, n, prob.data());
      for (int e = 0; e < n; ++e) key[e] = bias.empty() ? x[e] : prob[e] + bias[e];
      pick_groups(key.data(), !bias.empty(), group_sel, kept.data());
      expert_sel.reset();
      for (int e = 0; e < n; ++e)
        if (kept[e / (n / groups)]) expert_sel.offer(key[e], e);
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      int s = 0;
      for (const auto& c : expert_sel.best()) {
        ex[s] = c.index;
        w[s++] = prob[c.index];
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  // key: [experts]; kept: [groups] set to 1 for the topk_group best groups.
  void pick_groups(const float* key, bool top2_sum, Selector<float>& sel, uint8_t* kept) const {
    const int groups = spec_.groups, per_group = spec_.num_experts / spec_.groups;
    sel.reset();
    for (int g = 0; g < groups; ++g) {
      const float* v = key + g * per_group;
      float first = v[0], second = v[1];  // the group's two largest keys, first >= second
      if (second > first) std::swap(first, second);
      for (int i = 2; i < per_group; ++i) {
        if (v[i] > first) {
          second = first;
          first = v[i];
        } else if (v[i] > second) {
          second = v[i];
        }
      }
      sel.offer(top2_sum ? first + second : first, g);
      kept[g] = 0;
    }
    for (const auto& c : sel.best()) kept[c.index] = 1;
  }
};

}  // namespace

std::unique_ptr<Router> make_group_limited_router(const RouterSpec& spec) {
  return std::make_unique<GroupLimitedRouter>(spec);
}

}  // namespace moesim::routing
