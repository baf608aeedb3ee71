// The training step's optimizer and gradient reduction on one device.
#pragma once

#include "cost/block.hpp"

namespace moesim::cost {

// AdamW (Loshchilov and Hutter 2019) in mixed precision reads an fp32 master weight, the two fp32 moments
// and the fp32 gradient (16 bytes) and writes the master weight, the moments and the bf16 weight
// (14 bytes) for every parameter it updates.
inline constexpr double kAdamBytesPerParam = 30.0;

struct OptimizerCost {
  Work optimizer;          // AdamW over this device's share of the parameters (ZeRO-1: 1/zero_shards of the
                           // replicated ones, all of its routed experts)
  double grad_sync_s = 0;  // gradient reduction of the replicated parameters over the data-parallel ranks
};

// Gradients are fp32. Without ZeRO an all-reduce moves 2 (n-1)/n x 4 bytes per parameter; with ZeRO-1 a
// reduce-scatter of the fp32 gradients and an all-gather of the updated bf16 weights move (n-1)/n x (4 + 2).
// n = attention dp; the ring crosses the scale-out link when the cluster spans nodes. Routed experts are
// not replicated (ep x expert tp = devices), so their gradients are not reduced.
OptimizerCost optimizer_step(const Layout& L);

}  // namespace moesim::cost
