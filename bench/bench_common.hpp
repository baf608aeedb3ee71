// bench/bench_common.hpp: inputs shared by the benchmarks, built outside every timed loop.
#pragma once

#include "moesim/rng.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"
#include "workload/huge_pages.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace moesim::bench {

// Registration, called once from main (bench/main.cpp) before the benchmarks run.
void register_routing_benchmarks();   // bench_routing.cpp
void register_workload_benchmarks();  // bench_workload.cpp
void register_cost_benchmarks();      // bench_cost.cpp
void register_plan_benchmarks();      // bench_plan.cpp

// Standard normal fp32 values from Philox(seed, stream): two per counter (Box-Muller on word pairs).
inline std::vector<float> normal_values(int64_t n, uint64_t seed, uint64_t stream, float stddev = 1.0f) {
  const Philox rng(seed, stream);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i += 2) {
    const auto w = rng.words(static_cast<uint64_t>(i / 2));
    out[i] = stddev * static_cast<float>(standard_normal(Philox::to_unit_open_d(w[0]), Philox::to_unit_open_d(w[1])));
    if (i + 1 < n) {
      out[i + 1] = stddev * static_cast<float>(standard_normal(Philox::to_unit_open_d(w[2]), Philox::to_unit_open_d(w[3])));
    }
  }
  return out;
}

// Random router logits, N(0, 1) iid: [tokens, experts], on 2 MB pages where the kernel grants them (as
// the synthetic workload's batches are; workload/huge_pages.hpp). Made once per shape and kept, so that
// benchmarks of the same shape route identical scores and no run pays for generating them.
// Only called from the benchmark thread (benchmarks run one at a time).
inline const Scores& random_logits(int experts, int64_t tokens) {
  static std::map<std::pair<int, int64_t>, std::unique_ptr<Scores>> cache;
  auto& slot = cache[{experts, tokens}];
  if (!slot) {
    const std::vector<float> v = normal_values(tokens * experts, /*seed=*/1, mix64(static_cast<uint64_t>(experts)));
    slot = std::make_unique<Scores>(tokens, experts);
    workload_detail::advise_huge_pages(slot->data(), v.size() * sizeof(float));  // as the synthetic workload does
    *slot = Eigen::Map<const Scores>(v.data(), tokens, experts);
  }
  return *slot;
}

// The issue-6 router targets, and the other shapes bench/compare_pytorch uses: one thread, batches of
// kTargetTokens. topk 8 of 256 softmax >= 10 M tokens/s; DeepSeek-V3 group_limited >= 8 M; Pangu Pro
// MoE's MoGE (64 experts, 8 groups, k 8) >= 15 M; plus MoGE 256/8 and expert choice 256/8.
inline constexpr int64_t kTargetTokens = 32768;

struct TargetCase {
  RouterSpec spec;
  std::vector<float> bias;  // [experts] selection bias, or empty
};

inline std::vector<TargetCase> target_cases() {
  TargetCase topk;
  topk.spec.name = "topk";
  topk.spec.num_experts = 256;
  topk.spec.k = 8;

  // DeepSeek-V3 config.json: n_routed_experts 256, n_group 8, topk_group 4, num_experts_per_tok 8,
  // scoring_func sigmoid, norm_topk_prob true, routed_scaling_factor 2.5, topk_method noaux_tc (groups
  // scored by their top-2 sum), plus the e_score_correction_bias (here small random values).
  TargetCase deepseek;
  deepseek.spec.name = "group_limited";
  deepseek.spec.num_experts = 256;
  deepseek.spec.k = 8;
  deepseek.spec.groups = 8;
  deepseek.spec.topk_group = 4;
  deepseek.spec.scoring = ScoringFunc::sigmoid;
  deepseek.spec.group_score = GroupScore::top2_sum;
  deepseek.spec.normalize = true;
  deepseek.spec.scaling = 2.5;
  deepseek.bias = normal_values(256, /*seed=*/1, /*stream=*/mix64(0xb1a5), /*stddev=*/0.01f);

  TargetCase moge;
  moge.spec.name = "moge";
  moge.spec.num_experts = 64;
  moge.spec.k = 8;
  moge.spec.groups = 8;

  // The PyTorch baselines also route MoGE over 256 experts in 8 groups, and expert choice
  // (capacity factor 1) over the top-k shape.
  TargetCase moge256 = moge;
  moge256.spec.num_experts = 256;
  TargetCase expert_choice = topk;
  expert_choice.spec.name = "expert_choice";
  expert_choice.spec.capacity_factor = 1.0;
  return {topk, deepseek, moge, moge256, expert_choice};
}

}  // namespace moesim::bench
