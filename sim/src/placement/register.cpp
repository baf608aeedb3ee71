// placement/register.cpp: the built-in placements (contiguous, round_robin, by_group, explicit, eplb).
// Every one produces (phy2log, phy2dev) and hands it to Placement::from_physical. Built-in layouts
// list physical slots in increasing device order (EPLB's convention: slot p on device p / slots_per_dev).
#include "moesim/error.hpp"
#include "moesim/placement.hpp"
#include "moesim/registries.hpp"
#include "placement/eplb.hpp"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace moesim {
namespace {

struct Layout {
  std::vector<int32_t> phy2log;  // [num_physical]
  std::vector<int32_t> phy2dev;  // [num_physical]
  void add(int64_t expert, int64_t device) {
    phy2log.push_back(static_cast<int32_t>(expert));
    phy2dev.push_back(static_cast<int32_t>(device));
  }
};

// Appends n experts (ids first_expert ..) on m devices (ids first_device ..), contiguously:
// n >= m: expert i on device floor(i * m / n) (block sizes differ by at most one);
// m % n == 0: expert i replicated on the m / n consecutive devices i * m/n .. (i + 1) * m/n - 1.
// Returns false when neither holds.
bool append_contiguous(int64_t n, int64_t m, int64_t first_expert, int64_t first_device, Layout& out) {
  if (n >= m) {
    for (int64_t i = 0; i < n; ++i) out.add(first_expert + i, first_device + i * m / n);
  } else if (m % n == 0) {
    for (int64_t d = 0; d < m; ++d) out.add(first_expert + d / (m / n), first_device + d);
  } else {
    return false;
  }
  return true;
}

void require_positive(const PlacementInput& in, const std::string& file) {
  if (in.num_devices <= 0) throw Error(file, "cluster.devices", std::to_string(in.num_devices), "must be at least 1");
  if (in.num_experts <= 0)
    throw Error(file, "model.num_experts", std::to_string(in.num_experts), "placement needs routed experts");
}

Placement build(const PlacementInput& in, Layout l, const std::string& file, const std::string& key) {
  return Placement::from_physical(in.num_experts, in.num_devices, std::move(l.phy2log), std::move(l.phy2dev), file, key);
}

std::string replica_rule(const char* name, int experts) {
  return std::string(name) + " placement needs experts >= devices, or devices a multiple of experts (" +
         std::to_string(experts) + " experts)";
}

Placement contiguous(const PlacementInput& in, const std::string& file, const std::string& key) {
  require_positive(in, file);
  Layout l;
  if (!append_contiguous(in.num_experts, in.num_devices, 0, 0, l))
    throw Error(file, "cluster.devices", std::to_string(in.num_devices), replica_rule("contiguous", in.num_experts));
  return build(in, std::move(l), file, key);
}

// E >= D: expert e on device e % D. D > E, D % E == 0: device d holds a replica of expert d % E
// (expert e on devices e, e + E, e + 2E, ..: D / E replicas, round robin too).
Placement round_robin(const PlacementInput& in, const std::string& file, const std::string& key) {
  require_positive(in, file);
  const int E = in.num_experts, D = in.num_devices;
  Layout l;
  if (E >= D) {
    for (int d = 0; d < D; ++d)
      for (int e = d; e < E; e += D) l.add(e, d);
  } else if (D % E == 0) {
    for (int d = 0; d < D; ++d) l.add(d % E, d);
  } else {
    throw Error(file, "cluster.devices", std::to_string(D), replica_rule("round_robin", E));
  }
  return build(in, std::move(l), file, key);
}

// Groups of E / G consecutive experts. G % D == 0 (G == D included): G / D consecutive groups per
// device. D % G == 0: group j spread contiguously over devices j * D/G .. (j + 1) * D/G - 1.
Placement by_group(const PlacementInput& in, const std::string& file, const std::string& key) {
  require_positive(in, file);
  const int E = in.num_experts, D = in.num_devices, G = in.groups;
  if (G <= 0 || E % G != 0)
    throw Error(file, key, "by_group",
                "by_group needs the " + std::to_string(E) + " experts split into equal groups (got " +
                    std::to_string(G) + " groups)");
  const int group_size = E / G;
  Layout l;
  if (G % D == 0) {
    for (int e = 0; e < E; ++e) l.add(e, (e / group_size) / (G / D));
  } else if (D % G == 0) {
    const int per_group = D / G;  // devices per group
    for (int j = 0; j < G; ++j)
      if (!append_contiguous(group_size, per_group, int64_t{j} * group_size, int64_t{j} * per_group, l))
        throw Error(file, key, "by_group",
                    "by_group spreads each group of " + std::to_string(group_size) + " experts over " +
                        std::to_string(per_group) + " devices: needs one to be a multiple of the other");
  } else {
    throw Error(file, key, "by_group",
                "by_group needs the device count (" + std::to_string(D) + ") and the expert group count (" +
                    std::to_string(G) + ") to divide one another");
  }
  return build(in, std::move(l), file, key);
}

// spec->device_of_expert [E] (one slot per expert), or spec->phy2log + spec->phy2dev (replicas allowed).
Placement explicit_placement(const PlacementInput& in, const std::string& file, const std::string& key) {
  require_positive(in, file);
  const PlacementSpec* s = in.spec;
  const bool by_expert = s != nullptr && !s->device_of_expert.empty();
  const bool by_slot = s != nullptr && (!s->phy2log.empty() || !s->phy2dev.empty());
  if (by_expert == by_slot)
    throw Error(file, key, "explicit",
                by_expert ? "explicit placement takes device_of_expert or phy2log + phy2dev, not both"
                          : "explicit placement needs device_of_expert, or phy2log and phy2dev");
  if (by_slot) {
    std::vector<int32_t> p2l(s->phy2log.begin(), s->phy2log.end()), p2d(s->phy2dev.begin(), s->phy2dev.end());
    return Placement::from_physical(in.num_experts, in.num_devices, std::move(p2l), std::move(p2d), file, key);
  }
  const auto& doe = s->device_of_expert;
  const std::string k = key + ".device_of_expert";
  if (static_cast<int64_t>(doe.size()) != in.num_experts)
    throw Error(file, k, std::to_string(doe.size()) + " entries",
                "needs one device per expert (" + std::to_string(in.num_experts) + " experts)");
  for (size_t e = 0; e < doe.size(); ++e)
    if (doe[e] < 0 || doe[e] >= in.num_devices)
      throw Error(file, k + "[" + std::to_string(e) + "]", std::to_string(doe[e]),
                  "device id must be in [0, " + std::to_string(in.num_devices) + ")");
  std::vector<int32_t> p2l(doe.size());
  std::iota(p2l.begin(), p2l.end(), 0);
  return Placement::from_physical(in.num_experts, in.num_devices, std::move(p2l),
                                  std::vector<int32_t>(doe.begin(), doe.end()), file, k);
}

// key "setups[i].placement" -> "setups[i].<field>" (the router and cluster keys eplb reads).
std::string sibling_key(const std::string& key, const std::string& field) {
  const std::string suffix = "placement";
  const bool nested = key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  return nested ? key.substr(0, key.size() - suffix.size()) + field : field;
}

// DeepSeek EPLB on one layer's estimated load spec->weight [E] (empty = uniform) with spec->replicas
// slots (0 = one per expert); hierarchical over nodes of devices_per_node devices when the router's
// groups divide by the nodes, else global. Slot p sits on device p / (replicas / devices).
Placement eplb_placement(const PlacementInput& in, const std::string& file, const std::string& key) {
  require_positive(in, file);
  const PlacementSpec* s = in.spec;
  const int E = in.num_experts, D = in.num_devices;
  const int replicas = s != nullptr && s->replicas > 0 ? s->replicas : E;
  eplb::WeightMatrix weight{s != nullptr && !s->weight.empty() ? s->weight : std::vector<double>(static_cast<size_t>(E), 1.0)};
  if (static_cast<int>(weight[0].size()) != E)
    throw Error(file, key + ".weight", std::to_string(weight[0].size()) + " entries",
                "expected " + std::to_string(E) + " entries, one load per routed expert");
  for (size_t e = 0; e < weight[0].size(); ++e)
    if (!std::isfinite(weight[0][e]) || weight[0][e] < 0)
      throw Error(file, key + ".weight[" + std::to_string(e) + "]", value_text(weight[0][e]),
                  "expected a finite, non-negative load");
  const int per_node = in.devices_per_node;
  const int nodes = per_node > 0 && D % per_node == 0 ? D / per_node : 1;
  eplb::Keys keys{file, file, key + ".weight", key + ".replicas (default: one per expert)", sibling_key(key, "router.groups"),
                  "cluster.devices_per_node (nodes)", "cluster.devices"};
  if (s != nullptr && s->replicas > 0) keys.replicas = key + ".replicas";
  const eplb::Rebalance r = eplb::rebalance_experts(weight, replicas, in.groups, nodes, D, keys);
  std::vector<int32_t> phy2dev(static_cast<size_t>(replicas));
  for (int p = 0; p < replicas; ++p) phy2dev[static_cast<size_t>(p)] = p / (replicas / D);
  return Placement::from_physical(E, D, r.phy2log[0], std::move(phy2dev), file, key);
}

}  // namespace

void register_builtin_placements(PlacementRegistry& reg) {
  reg.add("contiguous", "expert e on device floor(e * devices / experts); devices a multiple of experts: replicas on consecutive devices",
          contiguous);
  reg.add("round_robin", "expert e on device e mod devices; devices a multiple of experts: device d holds expert d mod experts",
          round_robin);
  reg.add("by_group", "expert group j on device j (Pangu MoGE); groups spread over or packed onto devices when one divides the other",
          by_group);
  reg.add("explicit", "user-given device_of_expert, or phy2log + phy2dev with replicas (EPLB vocabulary)",
          explicit_placement);
  reg.add("eplb",
          "DeepSeek EPLB: `replicas` slots (default one per expert) balanced by estimated load `weight` (default "
          "uniform: the placement does not see the workload); hierarchical over nodes when router groups divide by "
          "nodes, else global",
          eplb_placement);
}

}  // namespace moesim
