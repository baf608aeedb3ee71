// routing/expert_choice.cpp: expert-choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert
// Choice Routing"; routing.md section 6). Each expert picks its C best tokens by score (tie -> lower
// token), C = min(tokens, ceil(cf * tokens * k / experts)): perfect expert balance, a variable number of
// experts per token. The bias is ignored: adding a per-expert constant never changes an expert's ranking.
#include "moesim/error.hpp"
#include "routing/routers.hpp"
#include "routing/routing_common.hpp"

#include <algorithm>
#include <functional>
#include <vector>

namespace moesim::routing {

namespace {

constexpr int64_t kTokenGrain = 1024;  // tokens per parallel chunk
constexpr int64_t kExpertGrain = 4;    // experts per parallel chunk

class ExpertChoiceRouter final : public Router {
 public:
  explicit ExpertChoiceRouter(RouterSpec spec) : spec_(std::move(spec)) {}

  // scores: [tokens, experts] logits. out: [tokens, slots], slots = most experts any token got (>= 1).
  void route(const Scores& scores, std::span<const float>, Assignments& out, ThreadPool& pool) const override {
    const int n = spec_.num_experts;
    const int64_t tokens = scores.rows();
    MOESIM_CHECK(scores.cols() == n, "expert_choice: scores have " + std::to_string(scores.cols()) +
                                         " columns for " + std::to_string(n) + " experts");
    MOESIM_CHECK(tokens < (int64_t{1} << 31), "expert_choice: too many tokens");
    const double cf = spec_.capacity_factor > 0 ? spec_.capacity_factor : 1.0;
    const int64_t cap = std::min(tokens, capacity_per_expert(cf, tokens, spec_.k, n));
    // Batch-sized work buffers, kept per calling thread from one batch to the next: allocated afresh (32 MB
    // of scores for 32768 tokens of 256 experts) their page faults and zeroing took 40% of the time.
    thread_local std::vector<float> prob_t;     // [experts, tokens]
    thread_local std::vector<int32_t> picked;   // [experts, cap]
    expert_major_scores(scores, pool, prob_t);
    pick_tokens(prob_t, tokens, cap, pool, picked);
    gather(prob_t, picked, tokens, cap, out, pool);
    out.requested = tokens * spec_.k;
    out.dropped_count = std::max<int64_t>(0, out.requested - n * cap);
  }

 private:
  // Returns [experts, tokens] scores (transposed, so each expert reads its column contiguously).
  // Rows are scored kBlock tokens at a time and written out expert by expert (a blocked transpose).
  void expert_major_scores(const Scores& scores, ThreadPool& pool, std::vector<float>& prob_t) const {
    constexpr int64_t kBlock = 16;
    const int n = spec_.num_experts;
    const int64_t tokens = scores.rows();
    prob_t.resize(static_cast<size_t>(tokens) * n);  // every entry is written below
    pool.parallel_for(tokens, kTokenGrain, [&](int64_t begin, int64_t end) {
      std::vector<float> block(static_cast<size_t>(kBlock * n));  // [kBlock, experts]
      for (int64_t t0 = begin; t0 < end; t0 += kBlock) {
        const int64_t m = std::min(kBlock, end - t0);
        for (int64_t i = 0; i < m; ++i) score_row(spec_.scoring, scores.data() + (t0 + i) * n, n, &block[i * n]);
        for (int e = 0; e < n; ++e)
          for (int64_t i = 0; i < m; ++i) prob_t[e * tokens + t0 + i] = block[i * n + e];
      }
    });
  }

  // picked: [experts, cap] token ids: expert e's cap best tokens (higher score, then lower token).
  // When an expert keeps under a quarter of the tokens, a guess g (from every 8th token's score, the
  // one with a quarter more than cap / 8 samples above it) lets only the tokens with scores >= g into
  // the ranking: if at least cap of them are, the cap-th best score is >= g and the cap best tokens are
  // all among them, ranked as before; otherwise (rare) the whole column is ranked. Only the speed
  // depends on the guess: nth_element over the column was 55% of the router's time.
  void pick_tokens(const std::vector<float>& prob_t, int64_t tokens, int64_t cap, ThreadPool& pool,
                   std::vector<int32_t>& picked) const {
    constexpr int64_t kStride = 8;  // sample every kStride-th token for the guess
    const int n = spec_.num_experts;
    picked.resize(static_cast<size_t>(n * cap));  // every entry is written below
    pool.parallel_for(n, kExpertGrain, [&](int64_t begin, int64_t end) {
      thread_local std::vector<Candidate<float>> column;  // [tokens] (score, token), kept per thread
      thread_local std::vector<float> sample;             // [tokens / kStride] scores for the guess
      column.resize(static_cast<size_t>(tokens));
      for (int64_t e = begin; e < end; ++e) {
        const float* p = prob_t.data() + e * tokens;
        int64_t kept = 0;
        if (cap * 4 < tokens) {
          sample.clear();
          for (int64_t t = 0; t < tokens; t += kStride) sample.push_back(p[t]);
          const auto at = std::min<int64_t>(static_cast<int64_t>(sample.size()) - 1, cap * 5 / 4 / kStride + 4);
          std::nth_element(sample.begin(), sample.begin() + at, sample.end(), std::greater<float>());
          const float guess = sample[static_cast<size_t>(at)];
          for (int64_t t = 0; t < tokens; ++t) {  // no branch: every token written, the kept ones advance
            column[kept] = {p[t], static_cast<int32_t>(t)};
            kept += p[t] >= guess;
          }
        }
        if (kept < cap) {
          for (int64_t t = 0; t < tokens; ++t) column[t] = {p[t], static_cast<int32_t>(t)};
          kept = tokens;
        }
        std::nth_element(column.begin(), column.begin() + cap, column.begin() + kept, ranks_before<float>);
        for (int64_t c = 0; c < cap; ++c) picked[e * cap + c] = column[c].index;
      }
    });
  }

  // Writes each token's experts into its slots, ordered by descending weight (tie -> lower expert).
  void gather(const std::vector<float>& prob_t, const std::vector<int32_t>& picked, int64_t tokens, int64_t cap,
              Assignments& out, ThreadPool& pool) const {
    const int n = spec_.num_experts;
    std::vector<int32_t> count(static_cast<size_t>(tokens), 0);  // [tokens] experts received
    for (int32_t t : picked) ++count[t];
    const int slots = std::max(1, tokens == 0 ? 1 : *std::max_element(count.begin(), count.end()));
    out.resize(tokens, slots);
    std::fill(count.begin(), count.end(), 0);
    for (int e = 0; e < n; ++e) {
      for (int64_t c = 0; c < cap; ++c) {
        const int32_t t = picked[e * cap + c];
        const size_t at = static_cast<size_t>(t) * slots + count[t]++;
        out.expert[at] = e;
        out.weight[at] = prob_t[e * tokens + t];
      }
    }
    pool.parallel_for(tokens, kTokenGrain, [&](int64_t begin, int64_t end) {
      std::vector<Candidate<float>> row(static_cast<size_t>(slots));
      for (int64_t t = begin; t < end; ++t) {
        const int m = count[t];
        int32_t* ex = out.expert.data() + t * slots;
        float* w = out.weight.data() + t * slots;
        for (int s = 0; s < m; ++s) row[s] = {w[s], ex[s]};
        std::sort(row.begin(), row.begin() + m, ranks_before<float>);
        for (int s = 0; s < m; ++s) {
          ex[s] = row[s].index;
          w[s] = row[s].key;
        }
        finish_weights(w, m, spec_.normalize, spec_.scaling);
      }
    });
  }

  RouterSpec spec_;
};

}  // namespace

std::unique_ptr<Router> make_expert_choice_router(const RouterSpec& spec) {
  return std::make_unique<ExpertChoiceRouter>(spec);
}

}  // namespace moesim::routing
