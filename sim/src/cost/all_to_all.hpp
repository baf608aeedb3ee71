// Token copies each expert-parallel rank moves over its intra-node and inter-node links in one
// dispatch (the combine moves the same copies back), from the routing's per-pair counts.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/metrics.hpp"

#include <vector>

namespace moesim::cost {

struct LinkCopies {
  double intra = 0;  // max(sent, received) over the scale-up link, in token copies
  double inter = 0;  // max(sent, received) over the scale-out link, in token copies
};

// normal (DeepEP's throughput kernels): a token crosses the scale-out network once per destination
// node, to the rank with the same local index there ("rail"), which forwards it over the scale-up link
// to the destination ranks of its node; ranks of the sender's own node get it directly.
// low_latency (DeepEP's decode kernels): one direct copy per selected expert, no de-duplication.
// Rank r sits on node r / ranks_per_node. Copies to the rank itself cost nothing.
std::vector<LinkCopies> all_to_all_copies(const BatchLoad& load, int ranks_per_node, AllToAll mode);

}  // namespace moesim::cost
