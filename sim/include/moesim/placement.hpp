// moesim/placement.hpp: where each expert's copies live, in DeepSeek EPLB's vocabulary.
#pragma once

#include "moesim/registry.hpp"
#include "moesim/scenario.hpp"

#include <cstdint>
#include <vector>

namespace moesim {

// One MoE layer's placement of num_logical experts into num_physical slots on num_devices devices.
// A logical expert may have several physical copies (replicas); its load is split across them.
struct Placement {
  int num_logical = 0;
  int num_devices = 0;
  int max_replicas = 1;
  std::vector<int32_t> phy2log;  // [num_physical] logical expert held by each physical slot
  std::vector<int32_t> phy2dev;  // [num_physical] device holding each physical slot
  std::vector<int32_t> log2phy;  // [num_logical, max_replicas] physical slots of each expert, -1 padded
  std::vector<int32_t> logcnt;   // [num_logical] number of replicas of each expert (>= 1)

  int num_physical() const { return static_cast<int>(phy2log.size()); }
  // The physical slot that serves token t's assignment to logical expert e: replicas take tokens
  // in turn (t mod logcnt), a deterministic even split.
  int32_t slot_for(int32_t e, int64_t t) const {
    const int32_t c = logcnt[e];
    const int32_t r = c == 1 ? 0 : static_cast<int32_t>(t % c);
    return log2phy[static_cast<size_t>(e) * max_replicas + r];
  }
  int32_t device_for(int32_t e, int64_t t) const { return phy2dev[slot_for(e, t)]; }

  // Builds log2phy/logcnt from phy2log/phy2dev. Throws Error if a logical expert has no slot,
  // an id is out of range or the sizes differ (file/key name the source of the arrays).
  static Placement from_physical(int num_logical, int num_devices, std::vector<int32_t> phy2log,
                                 std::vector<int32_t> phy2dev, const std::string& file = "",
                                 const std::string& key = "placement");
};

struct PlacementInput {
  int num_experts = 0;
  int num_devices = 0;
  int devices_per_node = 0;
  int groups = 1;  // expert groups of the router (by_group places group j on device j)
  const PlacementSpec* spec = nullptr;
};

using PlacementFactory = std::function<Placement(const PlacementInput&, const std::string& file, const std::string& key)>;
using PlacementRegistry = Registry<PlacementFactory>;

}  // namespace moesim
