// Token copies each expert-parallel rank moves over its intra-node and inter-node links in one
// dispatch (the combine moves the same copies back), from the routing's per-pair counts.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/metrics.hpp"

#include <vector>

namespace moesim::cost {

struct LinkCopies {
  double intra = 0;           // max(sent, received) over the scale-up link, in token copies
  double inter = 0;           // max(sent, received) over the scale-out link, in token copies
  double inter_received = 0;  // of the scale-out copies, those the rank receives
  double self = 0;            // copies a rank sends to itself (free without expert tensor parallelism)
};

// normal (DeepEP's throughput kernels): a token crosses the scale-out network once per destination
// node, to the rank with the same local index there ("rail"), which forwards it over the scale-up link
// to the destination ranks of its node; ranks of the sender's own node get it directly.
// low_latency (DeepEP's decode kernels): one direct copy per selected expert, no de-duplication.
// Rank r sits on node r / ranks_per_node. Copies to the rank itself cost nothing.
std::vector<LinkCopies> all_to_all_copies(const BatchLoad& load, int ranks_per_node, AllToAll mode);

// What one device of an expert-parallel rank moves when the rank is `etp` devices (expert tensor
// parallelism), in full hidden-sized token copies. Each of the etp devices needs every token the rank
// receives (its expert slice reads the whole hidden vector) and holds 1/etp of the tokens the rank sends.
// Over the scale-out link a device carries 1/etp of the rank's copies (etp NICs share them); every copy
// that arrives over the network is then all-gathered to the rank's other etp - 1 devices over the
// scale-up link; copies between ranks of one node reach each of the etp devices directly. The combine
// mirrors it (a reduce-scatter of the partial outputs, then 1/etp of the copies per NIC). A rank's tokens
// for its own experts are all-gathered too, unless attention tensor parallelism already replicates them
// on the rank's devices (attention_tp >= etp): each device lacks max(0, 1 - attention_tp / etp) of them.
//   per device: inter = rank inter / etp;
//               intra = rank intra + (rank inter received + self x lacking) x (etp - 1) / etp.
LinkCopies device_copies(const LinkCopies& rank, int etp, int attention_tp);

}  // namespace moesim::cost
