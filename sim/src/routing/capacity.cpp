// routing/capacity.cpp: the token-parallel driver of TokenwiseRouter, and per-expert capacity
// (GShard, Switch Transformer; routing.md section 5).
#include "moesim/error.hpp"
#include "moesim/router.hpp"
#include "routing/routing_common.hpp"

#include <string>

namespace moesim {

namespace {
constexpr int64_t kTokenGrain = 1024;  // tokens per chunk: fixed, so results never depend on thread count
}  // namespace

std::span<const float> TokenwiseRouter::begin_batch(int64_t tokens, std::span<const float> bias, Assignments& out) const {
  if (bias.empty()) bias = spec_.bias;  // the static bias (may be empty too)
  MOESIM_CHECK(bias.empty() || static_cast<int64_t>(bias.size()) == spec_.num_experts,
               spec_.name + ": bias has " + std::to_string(bias.size()) + " entries, not one per expert");
  MOESIM_CHECK(spec_.k >= 1 && spec_.k <= spec_.num_experts, spec_.name + ": unvalidated k " + std::to_string(spec_.k));
  out.reshape(tokens, spec_.k);  // route_rows writes every slot
  out.requested = tokens * spec_.k;
  return bias;
}

void TokenwiseRouter::route(const Scores& scores, std::span<const float> bias, Assignments& out,
                            ThreadPool& pool) const {
  const int64_t tokens = scores.rows();
  const int n = spec_.num_experts, k = spec_.k;
  MOESIM_CHECK(scores.cols() == n, spec_.name + ": scores have " + std::to_string(scores.cols()) + " columns for " +
                                       std::to_string(n) + " experts");
  bias = begin_batch(tokens, bias, out);
  pool.parallel_for(tokens, kTokenGrain, [&](int64_t begin, int64_t end) {
    route_rows(scores.data() + begin * n, end - begin, bias, out.expert.data() + begin * k, out.weight.data() + begin * k);
  });
}

// GShard / Switch Transformer priority order ("slot-major"): every token's 1st choice first, in token
// order, then every token's 2nd choice, and so on. So a token's 2nd choice never takes a place that a
// later token's 1st choice wants (GShard, arXiv 2006.16668, Algorithm 1: the top-1 pass fills the
// expert buffers before the top-2 pass). Slots already dropped or empty (kNoExpert) are skipped.
void apply_capacity(const CapacitySpec& cap, int num_experts, int k, Assignments& a) {
  if (cap.factor <= 0 || a.tokens == 0) return;
  const int64_t limit = routing::capacity_per_expert(cap.factor, a.tokens, k, num_experts);
  std::vector<int64_t> used(static_cast<size_t>(num_experts), 0);  // [experts] kept assignments so far
  const size_t n = static_cast<size_t>(a.tokens) * a.slots;
  for (int s = 0; s < a.slots; ++s) {
    for (int64_t t = 0; t < a.tokens; ++t) {
      const size_t i = static_cast<size_t>(t) * a.slots + s;
      const int32_t e = a.expert[i];
      if (e < 0 || (!a.dropped.empty() && a.dropped[i])) continue;
      MOESIM_CHECK(e < num_experts, "apply_capacity: expert " + std::to_string(e) + " out of range");
      if (used[e] < limit) {
        ++used[e];
        continue;
      }
      if (a.dropped.empty()) a.dropped.assign(n, 0);
      a.dropped[i] = 1;
      a.weight[i] = 0.0f;
      ++a.dropped_count;
    }
  }
}

}  // namespace moesim
