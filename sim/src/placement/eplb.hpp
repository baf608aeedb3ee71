// placement/eplb.hpp: DeepSeek's Expert-Parallelism Load Balancer (deepseek-ai/EPLB, eplb.py), as pure
// functions in its vocabulary (phy2log, log2phy, logcnt). Private to the library: the `eplb` placement
// (placement/register.cpp) and `moesim place` (sim/cli/place.cpp) call it. No simulator types here.
//
// Arithmetic is float32, as in eplb.py (`weight.float()`): group sums, load / replica-count quotients
// and pack loads are all float32, so ties and near-ties break exactly as EPLB breaks them.
// Ordering rules, taken from eplb.py:
//  - balanced_packing sorts items by weight, descending; equal weights keep index order (a stable sort);
//    each item goes to the lightest pack that still has room, the lowest pack index among equals
//    (Python's min). With one item per pack it is the identity (item i in pack i), as in eplb.py.
//  - replicate_experts gives each new replica to the expert with the largest load / replica count,
//    the lowest expert index among equals (torch's max returns the first maximum).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::eplb {

using WeightMatrix = std::vector<std::vector<double>>;  // [layers][num_logical] estimated load, >= 0

// Names the parameters in error messages: the defaults are EPLB's; the CLI passes "--replicas" and the
// like, the placement factory "setups[0].placement.replicas". Files may be empty.
struct Keys {
  std::string file;         // where the counts (replicas, groups, nodes, gpus) were given
  std::string weight_file;  // where the weights were given
  std::string weight = "weight";
  std::string replicas = "num_replicas";
  std::string groups = "num_groups";
  std::string nodes = "num_nodes";
  std::string gpus = "num_gpus";
};

struct Packing {
  std::vector<int32_t> pack_index;    // [n] pack of each item
  std::vector<int32_t> rank_in_pack;  // [n] position of each item in its pack (order of arrival)
};

// weight: [n]. Packs n items into num_packs packs of exactly n / num_packs items each, heaviest first
// into the lightest pack with room. Throws Error unless num_packs >= 1 divides n.
Packing balanced_packing(std::span<const float> weight, int num_packs);

struct Replication {
  std::vector<int32_t> phy2log;  // [num_phy] logical expert of each physical slot (slot i < num_log holds i)
  std::vector<int32_t> rank;     // [num_phy] replica rank of each slot (0 = the original)
  std::vector<int32_t> logcnt;   // [num_log] replicas of each logical expert (>= 1)
};

// weight: [num_log]. Adds num_phy - num_log replicas one at a time, each to the expert with the largest
// weight / logcnt. Throws Error if num_phy < num_log.
Replication replicate_experts(std::span<const float> weight, int num_phy);

struct Rebalance {
  bool hierarchical = true;                             // which policy rebalance_experts chose
  int max_replicas = 0;                                 // max of logcnt over every layer
  std::vector<std::vector<int32_t>> phy2log;            // [layers][num_replicas]
  std::vector<std::vector<int32_t>> phyrank;            // [layers][num_replicas] replica rank of each slot
  std::vector<std::vector<std::vector<int32_t>>> log2phy;  // [layers][num_logical][max_replicas], -1 padded
  std::vector<std::vector<int32_t>> logcnt;             // [layers][num_logical]
};

// weight: [layers][num_logical]. EPLB's hierarchical policy: (1) pack the num_groups expert groups onto
// num_nodes nodes, (2) replicate within each node to num_replicas / num_nodes slots, (3) pack each node's
// slots onto its num_gpus / num_nodes GPUs. Physical slot p sits on GPU p / (num_replicas / num_gpus).
// Preconditions (Error naming the key and value): weights finite, >= 0, rows of equal length;
// num_logical % num_groups == 0, num_groups % num_nodes == 0, num_gpus % num_nodes == 0,
// num_replicas % num_gpus == 0, num_replicas >= num_logical.
Rebalance rebalance_hierarchical(const WeightMatrix& weight, int num_replicas, int num_groups, int num_nodes,
                                 int num_gpus, const Keys& keys = {});

// The global policy: the hierarchical one with one group and one node.
Rebalance rebalance_global(const WeightMatrix& weight, int num_replicas, int num_gpus, const Keys& keys = {});

// EPLB's entry point: hierarchical when num_groups % num_nodes == 0, else global.
Rebalance rebalance_experts(const WeightMatrix& weight, int num_replicas, int num_groups, int num_nodes,
                            int num_gpus, const Keys& keys = {});

}  // namespace moesim::eplb
