// routing/moge.cpp: Mixture of Grouped Experts (Pangu Pro MoE, arXiv 2505.21411 section 2; routing.md
// section 2). Global softmax (or sigmoid) over all experts, then the best k/groups inside each group of
// consecutive experts. Slots: group 0's picks first, each group's picks best first.
// No bias and one pick per group (Pangu Pro): the group argmax of the logits (a vectorised segmented
// max), the global max is the largest of them, and only the softmax denominator needs every expert
// (the fused group_top1_softmax kernel).
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

#include "moesim/error.hpp"

#include <algorithm>

namespace moesim::routing {

namespace {

class MogeRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // x: [rows, experts] logits; expert / weight: [rows, k].
  void route_rows(const float* x, int64_t rows, std::span<const float> bias, int32_t* expert,
                  float* weight) const override {
    const int n = spec_.num_experts, k = spec_.k, groups = spec_.groups;
    const int per_group = n / groups, k_group = k / groups;
    const Kernels& kern = kernels();
    if (bias.empty() && k_group == 1 && spec_.scoring == ScoringFunc::softmax) {  // Pangu Pro: fused, rows in fours
      for (int64_t t = 0; t < rows; t += kRowsPerCall) {  // the kernel prefetches the rows it reads next
        const int m = static_cast<int>(std::min<int64_t>(kRowsPerCall, rows - t));
        const float* xt = x + t * n;
        kern.group_top1_softmax(xt, n, m, per_group, expert + t * k, weight + t * k);
        for (int r = 0; r < m; ++r) finish_weights(weight + (t + r) * k, k, spec_.normalize, spec_.scaling);
      }
      return;
    }
    TopKScratch scratch(n);
    std::vector<float> prob(static_cast<size_t>(n));  // [experts], one token's scores
    std::vector<float> key(static_cast<size_t>(n));   // [experts], prob + bias
    for (int64_t t = 0; t < rows; ++t) {
      const float* xt = x + t * n;
      if (t + kPrefetchRows < rows) prefetch_row(xt + kPrefetchRows * n, n);
      float* w = weight + t * k;
      int32_t* ex = expert + t * k;
      if (bias.empty() && k_group == 1) {  // sigmoid: the group argmax of the logits, then the chosen scores
        kern.group_top1(xt, n, per_group, ex);
        kern.scores_at(xt, ex, k, spec_.scoring, 0.0f, 0.0, w);
      } else {
        score_row(spec_.scoring, xt, n, prob.data());
        const float* kv = xt;  // selection keys: logits, or prob + bias
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
  static constexpr int kRowsPerCall = 8;  // rows per group_top1_softmax call
};

// The 300I Duo voting restriction (routing.md section 2; vLLM-Ascend pangu_moe.py): for one batch, every
// token votes in each group for its best expert there (the argmax of its selection keys); each group
// keeps its voted_experts most-voted experts (more votes first, tie -> lower index), and every token then
// takes its best k/groups experts among the kept ones (same slot order and weights as MogeRouter).
// Selection keys: the logits without a bias (the order of the scores), else score + bias.
// Only used when voted_experts > 0, so plain MoGE keeps its fast path untouched.
class VotingMogeRouter final : public Router {
 public:
  explicit VotingMogeRouter(RouterSpec spec) : spec_(std::move(spec)) {}

  void route(const Scores& scores, std::span<const float> bias, Assignments& out, ThreadPool& pool) const override {
    const int64_t tokens = scores.rows();
    const int n = spec_.num_experts;
    if (bias.empty()) bias = spec_.bias;  // the static bias (may be empty too)
    MOESIM_CHECK(scores.cols() == n, "moge voting: scores have the wrong number of columns");
    MOESIM_CHECK(bias.empty() || static_cast<int>(bias.size()) == n, "moge voting: bias is not one per expert");
    out.resize(tokens, spec_.k);
    out.requested = tokens * spec_.k;
    // Pass 1: votes[e] = tokens whose best expert of e's group is e. Integer counts per fixed chunk,
    // added in chunk order: the same whatever the thread count.
    std::vector<std::vector<int64_t>> chunk_votes(static_cast<size_t>(ThreadPool::chunk_count(tokens, kGrain)));
    pool.parallel_for(tokens, kGrain, [&](int64_t begin, int64_t end) {
      chunk_votes[static_cast<size_t>(begin / kGrain)] = count_votes(scores, bias, begin, end);
    });
    std::vector<int64_t> votes(static_cast<size_t>(n), 0);  // [experts]
    for (const auto& c : chunk_votes)
      for (int e = 0; e < n; ++e) votes[e] += c[e];
    const std::vector<std::vector<Range>> kept = kept_ranges(votes);
    // Pass 2: each token's best k/groups kept experts per group.
    pool.parallel_for(tokens, kGrain, [&](int64_t begin, int64_t end) { route_kept(scores, bias, kept, begin, end, out); });
  }

 private:
  static constexpr int64_t kGrain = 1024;  // tokens per chunk: fixed, so results never depend on thread count

  // Selection keys of one row: x itself without a bias, else key = s + bias. s (prob) is always filled.
  const float* keys(const float* x, std::span<const float> bias, float* prob, float* key) const {
    score_row(spec_.scoring, x, spec_.num_experts, prob);
    if (bias.empty()) return x;
    for (int e = 0; e < spec_.num_experts; ++e) key[e] = prob[e] + bias[e];
    return key;
  }

  std::vector<int64_t> count_votes(const Scores& scores, std::span<const float> bias, int64_t begin, int64_t end) const {
    const int n = spec_.num_experts, groups = spec_.groups;
    std::vector<int64_t> votes(static_cast<size_t>(n), 0);
    std::vector<float> prob(static_cast<size_t>(n)), key(static_cast<size_t>(n));
    std::vector<int32_t> best(static_cast<size_t>(groups));  // [groups] argmax of each group
    for (int64_t t = begin; t < end; ++t) {
      const float* kv = keys(scores.data() + t * n, bias, prob.data(), key.data());
      kernels().group_top1(kv, n, n / groups, best.data());
      for (int g = 0; g < groups; ++g) ++votes[best[g]];
    }
    return votes;
  }

  // votes: [experts]. Per group, its voted_experts most-voted experts as ascending ranges (adjacent merged).
  std::vector<std::vector<Range>> kept_ranges(const std::vector<int64_t>& votes) const {
    const int groups = spec_.groups, per_group = spec_.num_experts / groups;
    std::vector<std::vector<Range>> out(static_cast<size_t>(groups));
    for (int g = 0; g < groups; ++g) {
      std::vector<int> order(static_cast<size_t>(per_group));
      for (int i = 0; i < per_group; ++i) order[i] = g * per_group + i;
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return votes[a] > votes[b]; });
      order.resize(static_cast<size_t>(std::min(spec_.voted_experts, per_group)));
      std::sort(order.begin(), order.end());
      for (int e : order) {
        if (!out[g].empty() && out[g].back().end == e) {
          ++out[g].back().end;
        } else {
          out[g].push_back({e, e + 1});
        }
      }
    }
    return out;
  }

  void route_kept(const Scores& scores, std::span<const float> bias, const std::vector<std::vector<Range>>& kept,
                  int64_t begin, int64_t end, Assignments& out) const {
    const int n = spec_.num_experts, k = spec_.k, groups = spec_.groups, k_group = k / groups;
    TopKScratch scratch(n);
    std::vector<float> prob(static_cast<size_t>(n)), key(static_cast<size_t>(n));
    for (int64_t t = begin; t < end; ++t) {
      const float* kv = keys(scores.data() + t * n, bias, prob.data(), key.data());
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      for (int g = 0; g < groups; ++g)
        kernels().topk(kv, kept[g].data(), static_cast<int>(kept[g].size()), k_group, ex + g * k_group, scratch);
      for (int s = 0; s < k; ++s) w[s] = prob[ex[s]];
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

  RouterSpec spec_;
};

}  // namespace

std::unique_ptr<Router> make_moge_router(const RouterSpec& spec) {
  if (spec.voted_experts > 0) return std::make_unique<VotingMogeRouter>(spec);
  return std::make_unique<MogeRouter>(spec);
}

}  // namespace moesim::routing
