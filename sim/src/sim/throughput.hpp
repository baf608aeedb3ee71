// sim/throughput.hpp: from per-(step, layer) layer costs to a setup's throughput report.
#pragma once

#include "moesim/registries.hpp"
#include "moesim/simulator.hpp"

#include <memory>
#include <vector>

namespace moesim {

// Builds the scenario's cost model for one setup and checks the deployment fits in device memory:
// throws Error naming the batch (run.tokens_per_step) when it does not, with the largest that fits.
std::unique_ptr<CostModel> make_cost_model(const ScenarioSpec& spec, const Registries& reg, const Placement& placement,
                                           const std::string& setup_key);

// costs: [steps * layers] of the simulated MoE layers; the model's other MoE layers are taken to cost
// what the simulated ones cost on average in the same step.
ThroughputResult summarize_throughput(const ScenarioSpec& spec, const CostModel& cost, const Placement& placement,
                                      const std::vector<LayerCost>& costs, int layers);

}  // namespace moesim
