#include "cost/training.hpp"

#include "cost/memory.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::cost {

OptimizerCost optimizer_step(const Layout& L) {
  const DeploymentSpec& d = L.dep;
  const int ep = std::max(1, d.experts.dp);
  const int slots = L.m.is_moe() ? int(std::ceil(double(L.m.num_experts) / ep)) : 0;
  const DeviceParams p = device_params(L, slots);
  const int shards = std::max(1, d.training.zero_shards);
  OptimizerCost c;
  c.optimizer = L.rates.stream((p.replicated / shards + p.experts) * kAdamBytesPerParam);
  const int n = d.attention.dp;
  if (n > 1) {
    const double frac = double(n - 1) / n;
    const double bytes = shards > 1 ? frac * p.replicated * (4.0 + 2.0) : 2.0 * frac * p.replicated * 4.0;
    // The gradient ring is costed on scale-up links only when the whole deployment fits in one node (not
    // when n <= devices per node, as all_reduce_s decides for a TP group).
    c.grad_sync_s = ring_collective_s(L, bytes, n, L.devices <= L.devices_per_node);
  }
  return c;
}

}  // namespace moesim::cost
