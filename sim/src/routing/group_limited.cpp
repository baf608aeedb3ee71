// routing/group_limited.cpp: DeepSeek-V3 group-limited routing (arXiv 2412.19437 section 2.1.2;
// deepseek-ai/DeepSeek-V3 inference/model.py `Gate`; routing.md section 4), in the reference order:
//   s = sigmoid|softmax(logits); biased = s + bias (selection only);
//   group score (router.group_score) = the group's largest selection key (`max`, DeepSeek-V2
//   group_limited_greedy), or the sum of its two largest (`top2_sum`, DeepSeek-V3 noaux_tc: model.py
//   Gate takes topk(2).sum whenever the bias exists, which it does for V3);
//   keep the topk_group best groups (tie -> lower group), mask the rest with -inf;
//   top-k of the masked (biased) scores; weights = s there, normalised if asked, times scaling.
// Groups of a multiple of 16 experts take the fused group_limited kernel: sigmoid scores (DeepSeek-V3),
// or softmax scores with no bias and group_score max (DeepSeek-V2, keys the logits).
// With no bias and group_score max the selection runs on the logits (same order as s, see
// routing_common.hpp); a top-2 sum needs the scores themselves (a sum of sigmoids does not order groups
// as the sum of logits does), so top2_sum selects on fp32 s (+ bias).
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

namespace moesim::routing {

namespace {

class GroupLimitedRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // x: [rows, experts] logits; expert / weight: [rows, k].
  void route_rows(const float* x, int64_t rows, std::span<const float> bias, int32_t* expert,
                  float* weight) const override {
    const int n = spec_.num_experts, k = spec_.k, groups = spec_.groups, per_group = n / groups;
    const bool top2 = spec_.group_score == GroupScore::top2_sum;
    const bool keys_are_scores = !bias.empty() || top2;  // else the keys are the logits
    const Kernels& kern = kernels();
    TopKScratch scratch(n);
    const bool softmax = spec_.scoring == ScoringFunc::softmax;
    const GroupLimitedShape shape{n,    groups, per_group, spec_.topk_group == 0 ? groups : spec_.topk_group, k,
                                  top2, bias.empty() ? nullptr : bias.data(), spec_.normalize, spec_.scaling, softmax};
    // DeepSeek-V3 (sigmoid) or V2 (softmax, group max, no bias, selection on the logits): fused.
    if ((!softmax || !keys_are_scores) && group_limited_fast_shape(shape)) {
      for (int64_t t = 0; t < rows; t += kRowsPerCall) {  // the kernel prefetches the rows it reads next
        const int m = static_cast<int>(std::min<int64_t>(kRowsPerCall, rows - t));
        kern.group_limited(x + t * n, m, shape, expert + t * k, weight + t * k, scratch);
      }
      return;
    }
    std::vector<float> prob(static_cast<size_t>(n));         // [experts] s, one token's scores
    std::vector<float> key(static_cast<size_t>(n));          // [experts] s + bias
    std::vector<float> group_score(static_cast<size_t>(groups));
    std::vector<Range> kept(static_cast<size_t>(groups));    // kept groups' experts, ascending
    Selector<float> group_sel(groups, spec_.topk_group == 0 ? groups : spec_.topk_group);
    for (int64_t t = 0; t < rows; ++t) {
      const float* xt = x + t * n;
      if (t + kPrefetchRows < rows) prefetch_row(xt + kPrefetchRows * n, n);
      const float* kv = xt;  // selection keys: logits, or s + bias
      if (!bias.empty() && spec_.scoring == ScoringFunc::sigmoid) {
        kern.sigmoid_bias(xt, bias.data(), n, prob.data(), key.data());
        kv = key.data();
      } else {
        if (keys_are_scores) score_row(spec_.scoring, xt, n, prob.data());
        if (!bias.empty()) {
          for (int e = 0; e < n; ++e) key[e] = prob[e] + bias[e];
          kv = key.data();
        } else if (keys_are_scores) {
          kv = prob.data();
        }
      }
      kern.group_scores(kv, groups, per_group, top2, group_score.data());
      const int n_ranges = pick_groups(group_score.data(), group_sel, kept.data());
      float* w = weight + t * k;
      int32_t* ex = expert + t * k;
      kern.topk(kv, kept.data(), n_ranges, k, ex, scratch);
      if (keys_are_scores) {
        for (int s = 0; s < k; ++s) w[s] = prob[ex[s]];
      } else if (spec_.scoring == ScoringFunc::softmax) {
        // Keys are the logits (softmax is monotonic): only the k chosen weights need the softmax. The row
        // max is the largest group max; fp32(fp64(term) * 1 / sum) are the bits softmax_row gives there.
        const float m = *std::max_element(group_score.begin(), group_score.end());
        kern.scores_at(xt, ex, k, ScoringFunc::softmax, m, 1.0 / kern.exp_sum(xt, n, m, nullptr), w);
      } else {
        kern.scores_at(xt, ex, k, ScoringFunc::sigmoid, 0.0f, 0.0, w);
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  static constexpr int kRowsPerCall = 8;  // rows per group_limited kernel call

  // score: [groups]. Writes the expert ranges of the topk_group best groups (higher score, then lower
  // group) in increasing order, adjacent groups merged, into ranges; returns how many.
  int pick_groups(const float* score, Selector<float>& sel, Range* ranges) const {
    const int groups = spec_.groups, per_group = spec_.num_experts / groups;
    const int keep = spec_.topk_group == 0 ? groups : spec_.topk_group;
    uint8_t few[64] = {};
    std::vector<uint8_t> many(groups > 64 ? static_cast<size_t>(groups) : 0);  // rare: allocate
    uint8_t* is_kept = groups > 64 ? many.data() : few;
    if (keep == groups) {
      for (int g = 0; g < groups; ++g) is_kept[g] = 1;
    } else if (groups <= 16) {  // rank by counting: no branches on the data
      for (int g = 0; g < groups; ++g) {
        int rank = 0;
        for (int h = 0; h < groups; ++h) rank += score[h] > score[g] || (score[h] == score[g] && h < g);
        is_kept[g] = rank < keep ? 1 : 0;
      }
    } else {
      sel.reset();
      for (int g = 0; g < groups; ++g) sel.offer(score[g], g);
      for (const auto& c : sel.best()) is_kept[c.index] = 1;
    }
    int n = 0;
    for (int g = 0; g < groups; ++g) {
      if (!is_kept[g]) continue;
      if (n > 0 && ranges[n - 1].end == g * per_group) {
        ranges[n - 1].end += per_group;
      } else {
        ranges[n++] = {g * per_group, (g + 1) * per_group};
      }
    }
    return n;
  }
};

}  // namespace

std::unique_ptr<Router> make_group_limited_router(const RouterSpec& spec) {
  return std::make_unique<GroupLimitedRouter>(spec);
}

}  // namespace moesim::routing
