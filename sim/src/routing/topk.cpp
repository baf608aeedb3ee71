// routing/topk.cpp: plain top-k routing (GShard, Mixtral, Qwen-MoE; routing.md section 1).
// No bias: select on the logits (softmax and sigmoid are increasing), so only the k chosen experts need a
// score, plus the softmax denominator (one vectorised pass of exp). With a bias: score every expert,
// select on fp32 score + bias. Weights: the scores of the chosen experts (routing_common.hpp), then
// finish_weights. The kernels (simd.hpp) give the same bits on every instruction set.
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

namespace moesim::routing {

namespace {

class TopKRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // scores: [tokens, experts] logits; out.expert / out.weight: [tokens, k].
  void route_rows(const Scores& scores, std::span<const float> bias, int64_t begin, int64_t end,
                  Assignments& out) const override {
    const int n = spec_.num_experts, k = spec_.k;
    const Kernels& kern = kernels();
    TopKScratch scratch(n);
    std::vector<float> prob(bias.empty() ? 0 : static_cast<size_t>(n));  // [experts] one token's scores
    std::vector<float> key(bias.empty() ? 0 : static_cast<size_t>(n));   // [experts] prob + bias
    const Range all{0, n};
    if (bias.empty() && spec_.scoring == ScoringFunc::softmax) {  // the fast path: fused, rows in fours
      for (int64_t t = begin; t < end; t += kRowsPerCall) {
        const int rows = static_cast<int>(std::min<int64_t>(kRowsPerCall, end - t));
        const float* x = scores.data() + t * n;
        for (int r = 0; r < rows; ++r)
          if (t + r + kPrefetchRows < scores.rows()) prefetch_row(x + (r + kPrefetchRows) * n, n);
        kern.topk_softmax(x, n, rows, k, out.expert.data() + t * k, out.weight.data() + t * k, scratch);
        for (int r = 0; r < rows; ++r) finish_weights(out.weight.data() + (t + r) * k, k, spec_.normalize, spec_.scaling);
      }
      return;
    }
    for (int64_t t = begin; t < end; ++t) {
      const float* x = scores.data() + t * n;
      if (t + kPrefetchRows < scores.rows()) prefetch_row(x + kPrefetchRows * n, n);
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      if (bias.empty()) {
        kern.topk(x, &all, 1, k, ex, scratch);
        kern.scores_at(x, ex, k, ScoringFunc::sigmoid, 0.0f, 0.0, w);
      } else {
        score_row(spec_.scoring, x, n, prob.data());
        for (int e = 0; e < n; ++e) key[e] = prob[e] + bias[e];
        kern.topk(key.data(), &all, 1, k, ex, scratch);
        for (int s = 0; s < k; ++s) w[s] = prob[ex[s]];
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  static constexpr int kRowsPerCall = 8;  // rows per topk_softmax call (interleaved in fours there)
};

}  // namespace

std::unique_ptr<Router> make_topk_router(const RouterSpec& spec) { return std::make_unique<TopKRouter>(spec); }

}  // namespace moesim::routing
