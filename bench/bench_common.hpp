// bench/bench_common.hpp: inputs shared by the benchmarks, built outside every timed loop.
#pragma once

#include "moesim/rng.hpp"
#include "moesim/types.hpp"
#include "workload/huge_pages.hpp"

#include <cstdint>
#include <map>
#include <memory>
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

}  // namespace moesim::bench
