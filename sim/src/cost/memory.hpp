// Memory per device (the fullest one) and the parameters one device holds.
#pragma once

#include "cost/block.hpp"
#include "moesim/placement.hpp"

namespace moesim::cost {

// Parameters one device holds. `replicated`: those every data-parallel replica holds alike (attention,
// dense FFN, shared experts, routers, embedding and LM head; split by their tensor-parallel degrees);
// `experts`: routed-expert parameters (each in one place). In training with pipeline parallelism a device
// holds num_layers / stages blocks and one of the embedding and the LM head.
struct DeviceParams {
  double replicated = 0, experts = 0;
  double total() const { return replicated + experts; }
};
// slots: physical routed experts on the fullest expert-parallel rank (per MoE block).
DeviceParams device_params(const Layout& L, int slots);

// Weights, KV cache, activations (and in training gradients and optimizer states) on the fullest device,
// and the largest batch that fits. Inference keeps the embedding and LM head in bf16, vocab-parallel.
MemoryFootprint footprint(const Layout& L, const Placement& placement);

}  // namespace moesim::cost
