// routing/topk.cpp: plain top-k routing (GShard, Mixtral, Qwen-MoE; routing.md section 1).
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
    Selector<float> sel(n, k);
    std::vector<float> prob(bias.empty() ? 0 : static_cast<size_t>(n));  // [experts], one token's scores
    for (int64_t t = begin; t < end; ++t) {
      const float* x = scores.data() + t * n;
      float* w = out.weight.data() + t * k;
      int32_t* ex = out.expert.data() + t * k;
      sel.reset();
      if (bias.empty()) {
        route_on_logits(x, sel, ex, w);
      } else {
        score_row(spec_.scoring, x, n, prob.data());
        for (int e = 0; e < n; ++e) sel.offer(prob[e] + bias[e], e);
        int s = 0;
        for (const auto& c : sel.best()) {
          ex[s] = c.index;
          w[s++] = prob[c.index];
        }
      }
      finish_weights(w, k, spec_.normalize, spec_.scaling);
    }
  }

 private:
  // No bias: select on the logits; one pass finds the k best, the max and the softmax denominator
  // (online softmax: the running sum is rescaled whenever the max grows).
  void route_on_logits(const float* x, Selector<float>& sel, int32_t* ex, float* w) const {
    const int n = spec_.num_experts;
    if (spec_.scoring == ScoringFunc::sigmoid) {
      for (int e = 0; e < n; ++e) sel.offer(x[e], e);
      int s = 0;
      for (const auto& c : sel.best()) {
        ex[s] = c.index;
        w[s++] = sigmoid(c.key);
      }
      return;
    }
    float m = x[0];
    float sum = 0.0f;  // sum_e exp(x[e] - m) over the experts seen so far
    for (int e = 0; e < n; ++e) {
      const float v = x[e];
      if (v > m) {
        sum = sum * std::exp(m - v) + 1.0f;
        m = v;
      } else {
        sum += std::exp(v - m);
      }
      sel.offer(v, e);
    }
    int s = 0;
    for (const auto& c : sel.best()) {
      ex[s] = c.index;
      w[s++] = std::exp(c.key - m) / sum;
    }
  }
};

}  // namespace

std::unique_ptr<Router> make_topk_router(const RouterSpec& spec) { return std::make_unique<TopKRouter>(spec); }

}  // namespace moesim::routing
