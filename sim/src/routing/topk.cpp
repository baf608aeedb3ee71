// routing/topk.cpp: plain top-k routing (GShard, Mixtral, Qwen-MoE; routing.md section 1).
// No bias: select on the logits (softmax and sigmoid are increasing), so only the k chosen experts need a
// score, plus the softmax denominator (one vectorised pass of exp). With a bias: score every expert,
// select on fp32 score + bias. Sigmoid scores take the group-limited kernel with one group (the same
// definition). Weights: the scores of the chosen experts (routing_common.hpp), then
// finish_weights. The kernels (simd.hpp) give the same bits on every instruction set.
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

namespace moesim::routing {

namespace {

class TopKRouter final : public TokenwiseRouter {
 public:
  using TokenwiseRouter::TokenwiseRouter;

  // x: [rows, experts] logits; expert / weight: [rows, k].
  void route_rows(const float* x, int64_t rows, std::span<const float> bias, int32_t* expert,
                  float* weight) const override {
    const int n = spec_.num_experts, k = spec_.k;
    const Kernels& kern = kernels();
    TopKScratch scratch(n);
    if (bias.empty() && spec_.scoring == ScoringFunc::softmax) {  // the fast path: fused, rows in fours
      for (int64_t t = 0; t < rows; t += kRowsPerCall) {  // the kernel prefetches the rows it reads next
        const int m = static_cast<int>(std::min<int64_t>(kRowsPerCall, rows - t));
        const float* xt = x + t * n;
        kern.topk_softmax(xt, n, m, k, spec_.normalize, spec_.scaling, expert + t * k, weight + t * k, scratch);
      }
      return;
    }
    // Sigmoid (DeepSeek-V3's scores without the group limit): the fused group-limited kernel with one
    // group, all kept, is this router's definition: select on the logits (or on s + bias), weights
    // sigmoid_f32 of the chosen logits, then finish_weights.
    const GroupLimitedShape one_group{n, 1, n, 1, k, false, bias.empty() ? nullptr : bias.data(), spec_.normalize,
                                      spec_.scaling};
    if (spec_.scoring == ScoringFunc::sigmoid && group_limited_fast_shape(one_group)) {
      for (int64_t t = 0; t < rows; t += kRowsPerCall) {  // the kernel prefetches the rows it reads next
        const int m = static_cast<int>(std::min<int64_t>(kRowsPerCall, rows - t));
        kern.group_limited(x + t * n, m, one_group, expert + t * k, weight + t * k, scratch);
      }
      return;
    }
    std::vector<float> prob(bias.empty() ? 0 : static_cast<size_t>(n));  // [experts] one token's scores
    std::vector<float> key(bias.empty() ? 0 : static_cast<size_t>(n));   // [experts] prob + bias
    const Range all{0, n};
    for (int64_t t = 0; t < rows; ++t) {
      const float* xt = x + t * n;
      if (t + kPrefetchRows < rows) prefetch_row(xt + kPrefetchRows * n, n);
      float* w = weight + t * k;
      int32_t* ex = expert + t * k;
      if (bias.empty()) {
        kern.topk(xt, &all, 1, k, ex, scratch);
        kern.scores_at(xt, ex, k, ScoringFunc::sigmoid, 0.0f, 0.0, w);
      } else {
        score_row(spec_.scoring, xt, n, prob.data());
        for (int e = 0; e < n; ++e) key[e] = prob[e] + bias[e];
        kern.topk(key.data(), &all, 1, k, ex, scratch);
        for (int s = 0; s < k; ++s) w[s] = prob[ex[s]];
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  static constexpr int kRowsPerCall = 8;  // rows per fused-kernel call (interleaved in fours there)
};

}  // namespace

std::unique_ptr<Router> make_topk_router(const RouterSpec& spec) { return std::make_unique<TopKRouter>(spec); }

}  // namespace moesim::routing
