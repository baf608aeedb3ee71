// moesim/workload.hpp: where router logits come from (synthetic skew models; trace replay later).
#pragma once

#include "moesim/parallel.hpp"
#include "moesim/registry.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"

#include <memory>

namespace moesim {

class Workload {
 public:
  virtual ~Workload() = default;
  // Fills out with [tokens, num_experts] logits for batch `step` at MoE layer `layer`.
  // A value depends only on (seed, step, layer, token, expert): identical whatever pool.threads().
  virtual void generate(int64_t step, int layer, int64_t tokens, Scores& out, ThreadPool& pool) const = 0;
};

struct WorkloadInput {
  WorkloadSpec spec;
  int num_experts = 0;
  int num_layers = 0;           // MoE layers simulated
  int tokens_per_sequence = 1;  // consecutive tokens of one sequence share a preference
  uint64_t seed = 1;
};

using WorkloadFactory = std::function<std::unique_ptr<Workload>(const WorkloadInput&)>;
using WorkloadRegistry = Registry<WorkloadFactory>;

// Per-expert popularity (sums to 1) of the synthetic workload at one layer: [num_experts].
// Exposed so tests and reports can compare measured loads with the intended skew.
std::vector<double> synthetic_popularity(const WorkloadInput& in, int layer);

}  // namespace moesim
