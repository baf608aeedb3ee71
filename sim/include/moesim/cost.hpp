// moesim/cost.hpp: turns the routing engine's per-device load and traffic into time and memory.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/hardware.hpp"
#include "moesim/metrics.hpp"
#include "moesim/model.hpp"
#include "moesim/placement.hpp"
#include "moesim/registry.hpp"

#include <memory>
#include <vector>

namespace moesim {

// Time of one MoE layer, seconds. Device components are means over the devices; `slowest_s` is the
// layer's wall time (the slowest device), `mean_device_s` what the mean device needed.
struct LayerCost {
  double attention_s = 0;     // projections + attention core (+ KV-cache reads at decode)
  double shared_s = 0;        // shared experts
  double routed_s = 0;        // routed experts' grouped GEMM (mean device)
  double tp_comm_s = 0;       // tensor-parallel all-reduce of attention / shared-expert outputs
  double dispatch_s = 0;      // all-to-all to the experts (mean device, whole transfer)
  double combine_s = 0;       // all-to-all back (mean device, whole transfer)
  double exposed_comm_s = 0;  // part of dispatch + combine not hidden behind compute (mean device)
  double overhead_s = 0;      // the block's small kernels and launch gaps (hardware layer_overhead)
  double mean_device_s = 0;
  double slowest_s = 0;
  double flops = 0;  // useful FLOPs of the layer, all devices together
  double bytes = 0;  // HBM bytes moved, all devices together
};

// Work of one step that does not depend on routing (dense layers, LM head, embedding, overhead).
struct FixedCost {
  double dense_layers_s = 0;  // all dense (non-MoE) transformer blocks
  double lm_head_s = 0;       // final norm + LM head (+ embedding lookup)
  double overhead_s = 0;      // per-step framework overhead (scheduling, sampling, launches)
  double flops = 0, bytes = 0;
};

struct MemoryFootprint {  // bytes per device (the fullest device)
  double weights = 0, kv_cache = 0, activations = 0;
  double total() const { return weights + kv_cache + activations; }
  double capacity = 0;
  double kv_per_sequence = 0;     // decode: bytes one more sequence costs (KV + its activations)
  double activations_per_token = 0;
  int64_t max_batch = 0;          // decode: sequences; prefill: tokens (all devices), that still fit
};

class CostModel {
 public:
  virtual ~CostModel() = default;
  // load: one MoE layer's routing of the step's tokens over the expert-parallel ranks.
  virtual LayerCost moe_layer(const BatchLoad& load, const Placement& placement) const = 0;
  virtual FixedCost fixed() const = 0;
  virtual MemoryFootprint memory(const Placement& placement) const = 0;
};

struct CostInput {
  ModelSpec model;
  HardwareSpec hardware;
  DeploymentSpec deployment;
  int devices = 0;
  int devices_per_node = 0;
  int64_t tokens_per_step = 0;  // tokens through the model in one step, all devices together
};

using CostModelFactory = std::function<std::unique_ptr<CostModel>(const CostInput&)>;
using CostModelRegistry = Registry<CostModelFactory>;
void register_builtin_cost_models(CostModelRegistry& reg);

}  // namespace moesim
