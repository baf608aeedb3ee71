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

// Time of one MoE block, seconds, for the step's phase (training: its forward and backward pass together).
// Component times are the mean device's compute summed over micro-batches, hidden or not; `slowest_s` is
// the block's wall time (its slowest device), `mean_device_s` what the mean device needed.
struct LayerCost {
  double attention_s = 0;     // norms, projections, attention core (KV-cache reads at decode), RoPE
  double shared_s = 0;        // shared experts (their GEMMs and activation)
  double routed_s = 0;        // routed experts: per-expert GEMM rooflines summed over the device's experts
  double tp_comm_s = 0;       // tensor-parallel all-reduce of attention / shared-expert outputs
  double dispatch_s = 0;      // all-to-all to the experts (mean device, whole transfers)
  double combine_s = 0;       // all-to-all back (mean device, whole transfers)
  double exposed_comm_s = 0;  // wall time beyond the compute parts (mean device): unhidden transfers and compute
                              // slowed by transfers that occupy compute units
  double overhead_s = 0;      // the router: its norm, gate GEMM (BF16) and top-k (reported as router_s)
  double forward_s = 0;       // mean device: the forward pass's share (all of it except in training)
  double dispatch_forward_s = 0, combine_forward_s = 0;  // the forward pass's share of dispatch_s, combine_s
  // Bytes one device receives (or sends, whichever is more) over each link in the block's forward dispatch
  // and combine, all micro-batches (mean device).
  double dispatch_scale_up_bytes = 0, dispatch_scale_out_bytes = 0;
  double combine_scale_up_bytes = 0, combine_scale_out_bytes = 0;
  double mean_device_s = 0;
  double slowest_s = 0;
  double flops = 0;  // useful FLOPs of the block, all devices together (model FLOPs: no recomputation)
  double bytes = 0;  // HBM bytes moved, all devices together
};

// Work of one step that does not depend on routing.
struct FixedCost {
  double dense_attention_s = 0;  // attention of the dense (non-MoE) blocks, with their TP all-reduce
  double dense_ffn_s = 0;        // FFN of the dense blocks, with their TP all-reduce
  double embedding_s = 0;        // token embedding lookup (a gather of hidden-sized rows)
  double lm_head_s = 0;          // final norm, LM head GEMM, logits write and sampling read
  double overhead_s = 0;         // per-step host overhead (hardware step_overhead)
  double optimizer_s = 0;        // training: AdamW update of this device's parameters
  double grad_sync_s = 0;        // training: gradient reduction over the data-parallel ranks (whole transfer)
  double forward_s = 0;          // the forward pass's share of the dense blocks, embedding and LM head
  double flops = 0, bytes = 0;
  double dense_layers_s() const { return dense_attention_s + dense_ffn_s; }
};

struct MemoryFootprint {  // bytes per device (the fullest device)
  double weights = 0, kv_cache = 0, activations = 0;
  double gradients = 0, optimizer = 0;  // training only
  double total() const { return weights + kv_cache + activations + gradients + optimizer; }
  double capacity = 0;
  double kv_per_sequence = 0;     // decode: bytes one more sequence costs (KV + its activations)
  double activations_per_token = 0;
  int64_t max_batch = 0;          // decode: sequences; prefill and training: tokens (all devices), that still fit
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
