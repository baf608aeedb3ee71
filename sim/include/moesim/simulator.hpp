// moesim/simulator.hpp: wires workload -> router -> placement -> metrics for every setup.
#pragma once

#include "moesim/metrics.hpp"
#include "moesim/registries.hpp"
#include "moesim/scenario.hpp"

#include <array>
#include <vector>

namespace moesim {

struct SetupResult {
  SetupSpec spec;
  std::array<Distribution, kNumMetrics> overall;                 // over every (step, layer)
  std::vector<std::array<Distribution, kNumMetrics>> per_layer;  // [layers], over steps
  std::vector<MetricValues> per_step;                            // [steps], mean over layers
  std::vector<std::vector<double>> expert_tokens_mean;           // [layers, experts] mean over steps
  std::vector<double> device_assignments_mean;                   // [devices] mean over steps and layers
  int64_t requested = 0, dropped = 0;                            // totals over the run
};

struct ScenarioResult {
  ScenarioSpec scenario;
  std::vector<SetupResult> setups;
};

// Runs every setup of the scenario on the same token stream (same seed, same logits wherever the
// workloads are equal). Deterministic: the result does not depend on scenario.run.threads.
ScenarioResult simulate(const ScenarioSpec& scenario, const Registries& reg);

}  // namespace moesim
