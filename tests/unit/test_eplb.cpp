// DeepSeek EPLB (placement/eplb.cpp) on cases small enough to work out by hand with the rules of
// deepseek-ai/EPLB eplb.py: heaviest first (equal weights in index order) into the lightest pack with
// room (lowest index among equals); each replica to the largest load / count (lowest index among equals).
#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/placement.hpp"
#include "moesim/registries.hpp"
#include "placement/eplb.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace moesim::eplb {
namespace {

using Ids = std::vector<int32_t>;

// [5, 4, 3, 2, 1, 1] into 2 packs of 3. Order: 5, 4, 3, 2, 1 (item 4), 1 (item 5).
//   5 -> pack 0 (0 vs 0: first)            loads 5, 0
//   4 -> pack 1                            loads 5, 4
//   3 -> pack 1 (4 < 5)                    loads 5, 7
//   2 -> pack 0 (5 < 7)                    loads 7, 7
//   1 (item 4) -> pack 0 (7 vs 7: first)   loads 8, 7; pack 0 now full
//   1 (item 5) -> pack 1, the only one with room: loads 8, 8
TEST(EplbBalancedPacking, WorkedExample) {
  const Packing p = balanced_packing(std::vector<float>{5, 4, 3, 2, 1, 1}, 2);
  EXPECT_EQ(p.pack_index, (Ids{0, 1, 1, 0, 0, 1}));
  EXPECT_EQ(p.rank_in_pack, (Ids{0, 0, 1, 1, 2, 2}));
}

// [10, 1, 1, 1] into 2 packs of 2: 10 -> pack 0; the first two 1s -> pack 1 (lighter); pack 1 is then
// full, so the last 1 goes to pack 0 although pack 1 is lighter (2 < 10).
TEST(EplbBalancedPacking, FullPackIsSkipped) {
  const Packing p = balanced_packing(std::vector<float>{10, 1, 1, 1}, 2);
  EXPECT_EQ(p.pack_index, (Ids{0, 1, 1, 0}));
  EXPECT_EQ(p.rank_in_pack, (Ids{0, 0, 1, 1}));
}

// Equal weights keep index order and equal packs pick the lowest index: 0 -> p0, 1 -> p1, 2 -> p0, 3 -> p1.
TEST(EplbBalancedPacking, TiesBreakByIndex) {
  const Packing p = balanced_packing(std::vector<float>{2, 2, 2, 2}, 2);
  EXPECT_EQ(p.pack_index, (Ids{0, 1, 0, 1}));
  EXPECT_EQ(p.rank_in_pack, (Ids{0, 0, 1, 1}));
}

// One item per pack: eplb.py returns the identity whatever the weights (no sort).
TEST(EplbBalancedPacking, OneItemPerPackIsTheIdentity) {
  const Packing p = balanced_packing(std::vector<float>{1, 9, 5}, 3);
  EXPECT_EQ(p.pack_index, (Ids{0, 1, 2}));
  EXPECT_EQ(p.rank_in_pack, (Ids{0, 0, 0}));
}

TEST(EplbBalancedPacking, PacksMustDivideTheItems) {
  EXPECT_THROW(balanced_packing(std::vector<float>{1, 2, 3}, 2), Error);
  EXPECT_THROW(balanced_packing(std::vector<float>{1, 2}, 0), Error);
}

// [6, 3, 2] to 5 slots: slot 3 -> expert 0 (6 is the largest; 6/2 = 3 after); slot 4: loads 3, 3, 2,
// a tie -> expert 0 (first); its count becomes 3.
TEST(EplbReplicateExperts, LargestLoadPerReplicaFirst) {
  const Replication r = replicate_experts(std::vector<float>{6, 3, 2}, 5);
  EXPECT_EQ(r.phy2log, (Ids{0, 1, 2, 0, 0}));
  EXPECT_EQ(r.rank, (Ids{0, 0, 0, 1, 2}));
  EXPECT_EQ(r.logcnt, (Ids{3, 1, 1}));
}

TEST(EplbReplicateExperts, NoRedundancyIsTheIdentity) {
  const Replication r = replicate_experts(std::vector<float>{1, 7}, 2);
  EXPECT_EQ(r.phy2log, (Ids{0, 1}));
  EXPECT_EQ(r.logcnt, (Ids{1, 1}));
  EXPECT_THROW(replicate_experts(std::vector<float>{1, 7}, 1), Error);
}

// Global policy, weight [[6, 3, 2, 1]], 6 replicas on 3 GPUs (2 slots each).
//  step 1: one group in one node: identity.
//  step 2: replicate to 6: slot 4 -> expert 0 (6), slot 5 -> expert 0 (3 vs 3: first). phy2log
//          [0, 1, 2, 3, 0, 0], rank [0, 0, 0, 0, 1, 2], logcnt [3, 1, 1, 1].
//  step 3: slot loads [2, 3, 2, 1, 2, 2] into 3 GPUs of 2: 3 (slot 1) -> g0; 2 (slot 0) -> g1;
//          2 (slot 2) -> g2; 2 (slot 4) -> g1 (2 vs 2, first; 3 on g0); 2 (slot 5) -> g2 (g1 full);
//          1 (slot 3) -> g0. GPU loads 4, 4, 4.
//          Physical order (gpu * 2 + rank): slots 1, 3 | 0, 4 | 2, 5 -> experts 1, 3 | 0, 0 | 2, 0.
TEST(EplbRebalance, GlobalWorkedExample) {
  const Rebalance r = rebalance_global({{6, 3, 2, 1}}, 6, 3);
  EXPECT_FALSE(r.hierarchical);
  EXPECT_EQ(r.phy2log, (std::vector<Ids>{{1, 3, 0, 0, 2, 0}}));
  EXPECT_EQ(r.phyrank, (std::vector<Ids>{{0, 0, 0, 1, 0, 2}}));
  EXPECT_EQ(r.logcnt, (std::vector<Ids>{{3, 1, 1, 1}}));
  EXPECT_EQ(r.max_replicas, 3);
  EXPECT_EQ(r.log2phy, (std::vector<std::vector<Ids>>{{{2, 3, 5}, {0, -1, -1}, {4, -1, -1}, {1, -1, -1}}}));
}

// rebalance_experts takes the global policy when groups % nodes != 0 (3 % 2), like eplb.py, and then
// ignores the groups (3 does not divide the 4 experts).
TEST(EplbRebalance, GroupsNotDivisibleByNodesMeansGlobal) {
  const Rebalance r = rebalance_experts({{6, 3, 2, 1}}, 6, 3, 2, 3);
  EXPECT_FALSE(r.hierarchical);
  EXPECT_EQ(r.phy2log, (std::vector<Ids>{{1, 3, 0, 0, 2, 0}}));
}

// Hierarchical, weight [[1, 1, 5, 5, 2, 2, 3, 3]]: 4 groups of 2 (sums 2, 10, 4, 6), 2 nodes, 8 replicas,
// 4 GPUs (2 per node, 2 slots per GPU).
//  step 1: groups 10 (g1) -> n0, 6 (g3) -> n1, 4 (g2) -> n1, 2 (g0) -> n0 (n1 full). Node 0 holds g1 then
//          g0: experts 2, 3, 0, 1; node 1 holds g3 then g2: experts 6, 7, 4, 5.
//  step 2: no redundancy.
//  step 3, node 0: loads [5, 5, 1, 1] -> GPU 0 gets the first 5 and the first 1, GPU 1 the others:
//          experts 2, 0 | 3, 1. Node 1: loads [3, 3, 2, 2] likewise: experts 6, 4 | 7, 5.
TEST(EplbRebalance, HierarchicalWorkedExample) {
  const Rebalance r = rebalance_experts({{1, 1, 5, 5, 2, 2, 3, 3}}, 8, 4, 2, 4);
  EXPECT_TRUE(r.hierarchical);
  EXPECT_EQ(r.phy2log, (std::vector<Ids>{{2, 0, 3, 1, 6, 4, 7, 5}}));
  EXPECT_EQ(r.logcnt, (std::vector<Ids>{{1, 1, 1, 1, 1, 1, 1, 1}}));
}

// The error's key and value, or "no error".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.key() + "=" + e.value();
  }
  return "no error";
}

TEST(EplbRebalance, PreconditionsNameTheKeyAndValue) {
  const WeightMatrix w12 = {std::vector<double>(12, 1.0)};
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 15, 4, 2, 8); }), "num_replicas=15");       // 15 % 8
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 8, 4, 2, 8); }), "num_replicas=8");         // < 12 experts
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 18, 4, 2, 3); }), "num_gpus=3");            // 3 % 2 nodes
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 16, 5, 5, 8); }), "num_groups=5");          // 12 % 5
  EXPECT_EQ(error_of([&] { rebalance_hierarchical(w12, 16, 3, 2, 8); }), "num_groups=3");     // 3 % 2 nodes
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 16, 4, 0, 8); }), "num_nodes=0");
  EXPECT_EQ(error_of([&] { rebalance_experts(w12, 16, 4, 2, 8); }), "no error");
}

TEST(EplbRebalance, BadWeightsNameTheEntry) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(error_of([&] { rebalance_global({{1, 2}, {3}}, 2, 1); }), "weight[1]=1 entries");
  EXPECT_EQ(error_of([&] { rebalance_global({{1, -2}}, 2, 1); }), "weight[0][1]=-2");
  EXPECT_EQ(error_of([&] { rebalance_global({{1, 2}, {nan, 1}}, 2, 1); }), "weight[1][0]=nan");
  EXPECT_EQ(error_of([&] { rebalance_global({{1, 1e300}}, 2, 1); }), "weight[0][1]=1e+300");  // not a float32
  EXPECT_EQ(error_of([&] { rebalance_global({}, 2, 1); }), "weight=");
  Keys keys;
  keys.weight_file = "w.json";
  try {
    rebalance_global({{1, -2}}, 2, 1, keys);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "w.json: weight[0][1]: expected a finite, non-negative load (at most 3.4e38) (got '-2')");
  }
}

// The registered `eplb` placement: one layer, slot p on device p / (replicas / devices).
Placement make_eplb(const PlacementSpec& spec, int experts, int devices, int per_node, int groups) {
  PlacementRegistry reg("placement");
  register_builtin_placements(reg);
  PlacementInput in{experts, devices, per_node, groups, &spec};
  return reg.get("eplb", "s.yaml", "setups[0].placement").factory(in, "s.yaml", "setups[0].placement");
}

// The global worked example above as a placement: 6 slots on 3 devices.
TEST(EplbPlacement, UsesTheWeightsAndReplicas) {
  PlacementSpec spec;
  spec.name = "eplb";
  spec.replicas = 6;
  spec.weight = {6, 3, 2, 1};
  const Placement p = make_eplb(spec, 4, 3, 3, 1);
  EXPECT_EQ(p.phy2log, (Ids{1, 3, 0, 0, 2, 0}));
  EXPECT_EQ(p.phy2dev, (Ids{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(p.logcnt, (Ids{3, 1, 1, 1}));
}

// Uniform weights and one slot per expert (8 on 4 devices, one node, one group): step 3 packs equal
// loads in index order, experts 0..3 one per GPU, then 4..7 likewise (the lightest pack with room is the
// first one not yet holding a second item). So GPU d holds experts d and d + 4: round robin.
TEST(EplbPlacement, DefaultsAreUniformAndOneSlotPerExpert) {
  PlacementSpec spec;
  spec.name = "eplb";
  const Placement p = make_eplb(spec, 8, 4, 4, 1);
  EXPECT_EQ(p.phy2log, (Ids{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(p.phy2dev, (Ids{0, 0, 1, 1, 2, 2, 3, 3}));
}

TEST(EplbPlacement, ErrorsNameTheScenarioKeys) {
  PlacementSpec spec;
  spec.name = "eplb";
  spec.replicas = 10;
  EXPECT_EQ(error_of([&] { make_eplb(spec, 8, 4, 4, 1); }), "setups[0].placement.replicas=10");  // 10 % 4
  spec.replicas = 0;
  spec.weight = {1, 2, 3};
  EXPECT_EQ(error_of([&] { make_eplb(spec, 8, 4, 4, 1); }), "setups[0].placement.weight=3 entries");
  spec.weight = {1, 2, 3, 4, 5, 6, 7, -8};
  EXPECT_EQ(error_of([&] { make_eplb(spec, 8, 4, 4, 1); }), "setups[0].placement.weight[7]=-8");
}

// The scenario keys placement.replicas and placement.weight (configs/README.md, placement section).
std::string scenario(const std::string& placement) {
  return "model: pangu-pro-moe\n"
         "cluster: {devices: 8, devices_per_node: 8}\n"
         "run: {steps: 2, tokens_per_step: 16}\n"
         "setups:\n"
         "  - name: e\n"
         "    router: {name: topk, k: 8}\n"
         "    placement: " + placement + "\n";
}

std::string parse_error(const std::string& text) {
  LoadOptions opt;
  opt.preset_dirs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};
  try {
    parse_scenario(text, "s.yaml", opt, builtin_registries());
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(EplbScenario, ReplicasAndWeightAreRead) {
  LoadOptions opt;
  opt.preset_dirs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};
  std::string weights = "[";
  for (int e = 0; e < 64; ++e) weights += (e ? ", " : "") + std::to_string(64 - e);
  const ScenarioSpec s = parse_scenario(scenario("{name: eplb, replicas: 72, weight: " + weights + "]}"), "s.yaml", opt,
                                        builtin_registries());
  EXPECT_EQ(s.setups[0].placement.name, "eplb");
  EXPECT_EQ(s.setups[0].placement.replicas, 72);
  ASSERT_EQ(s.setups[0].placement.weight.size(), 64u);
  EXPECT_EQ(s.setups[0].placement.weight[1], 63.0);
}

TEST(EplbScenario, BadKeysNameTheKey) {
  EXPECT_EQ(parse_error(scenario("{name: eplb, weight: [1, 2]}")),
            "s.yaml: setups[0].placement.weight: expected 64 entries, one load per routed expert (got '[1, 2]')");
  EXPECT_EQ(parse_error(scenario("{name: eplb, weight: [1, -2]}")),
            "s.yaml: setups[0].placement.weight[1]: expected a non-negative number (got '-2')");
  EXPECT_EQ(parse_error(scenario("{name: eplb, replicas: 60}")),
            "s.yaml: setups[0].placement.replicas: must be at least the model's 64 routed experts (or 0: one per "
            "expert) (got '60')");
  EXPECT_EQ(parse_error(scenario("{name: eplb, replicas: -1}")),
            "s.yaml: setups[0].placement.replicas: expected a non-negative integer (got '-1')");
}

}  // namespace
}  // namespace moesim::eplb
