// metrics/load.cpp: raw per-device / per-expert / per-pair counts of one batch at one layer.
#include "moesim/error.hpp"
#include "moesim/metrics.hpp"

#include <string>

namespace moesim {

// Token t's home device is t * D / tokens (contiguous blocks, int64). Every kept assignment goes to
// the physical slot p.slot_for(e, t) (replicas take tokens in turn) and that slot's device.
// pair_tokens counts a token once per distinct destination device, pair_assignments once per kept
// assignment, pair_node_tokens once per destination node; token_dest_* count distinct
// destination devices / nodes (node = device / devices_per_node; devices_per_node <= 0: one node).
BatchLoad measure_load(const Assignments& a, const Placement& p, int devices_per_node) {
  const int D = p.num_devices;
  MOESIM_CHECK(D > 0, "placement without devices");
  const int dpn = devices_per_node > 0 ? devices_per_node : D;
  BatchLoad L;
  L.tokens = a.tokens;
  L.requested = a.requested;
  L.dropped = a.dropped_count;
  L.expert_tokens.assign(static_cast<size_t>(p.num_logical), 0);
  L.device_assignments.assign(static_cast<size_t>(D), 0);
  L.distinct_experts.assign(static_cast<size_t>(D), 0);
  L.pair_tokens.assign(static_cast<size_t>(D) * D, 0);
  L.pair_assignments.assign(static_cast<size_t>(D) * D, 0);
  const int nodes = (D + dpn - 1) / dpn;
  L.nodes = nodes;
  L.pair_node_tokens.assign(static_cast<size_t>(D) * nodes, 0);

  L.slot_tokens.assign(static_cast<size_t>(p.num_physical()), 0);
  // Last token (plus one) that reached each device / node: a set without clearing per token.
  std::vector<int64_t> device_seen(static_cast<size_t>(D), 0);                     // [devices]
  std::vector<int64_t> node_seen(static_cast<size_t>(nodes), 0);                   // [nodes]
  std::vector<int32_t> node_of(static_cast<size_t>(D));                            // [devices] dev / dpn
  for (int d = 0; d < D; ++d) node_of[static_cast<size_t>(d)] = d / dpn;
  int64_t src = 0;  // t * D / tokens, advanced without a division per token
  for (int64_t t = 0; t < a.tokens; ++t) {
    while ((src + 1) * a.tokens <= t * D) ++src;
    for (int s = 0; s < a.slots; ++s) {
      if (!a.is_kept(t, s)) continue;
      const int32_t e = a.expert_at(t, s);
      MOESIM_CHECK(e < p.num_logical, "expert " + std::to_string(e) + " beyond the placement's " +
                                          std::to_string(p.num_logical) + " logical experts");
      const int32_t slot = p.slot_for(e, t);
      const int32_t dev = p.phy2dev[static_cast<size_t>(slot)];
      ++L.expert_tokens[static_cast<size_t>(e)];
      ++L.device_assignments[static_cast<size_t>(dev)];
      ++L.slot_tokens[static_cast<size_t>(slot)];
      ++L.pair_assignments[static_cast<size_t>(src * D + dev)];
      // First visit of this token to the device / node: counted without a branch (which device comes
      // next is data, so a branch here would be mispredicted about half the time).
      const int64_t new_dev = device_seen[static_cast<size_t>(dev)] != t + 1;
      device_seen[static_cast<size_t>(dev)] = t + 1;
      L.pair_tokens[static_cast<size_t>(src * D + dev)] += new_dev;
      L.token_dest_devices += new_dev;
      const int node = node_of[static_cast<size_t>(dev)];
      const int64_t new_node = node_seen[static_cast<size_t>(node)] != t + 1;
      node_seen[static_cast<size_t>(node)] = t + 1;
      L.token_dest_nodes += new_node;
      L.pair_node_tokens[static_cast<size_t>(src * nodes + node)] += new_node;
    }
  }
  for (int q = 0; q < p.num_physical(); ++q)
    if (L.slot_tokens[static_cast<size_t>(q)] > 0) ++L.distinct_experts[static_cast<size_t>(p.phy2dev[static_cast<size_t>(q)])];
  return L;
}

}  // namespace moesim
