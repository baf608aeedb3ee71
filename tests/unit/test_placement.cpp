// Unit tests of the built-in placements and Placement::from_physical, each layout worked out by hand.
#include "moesim/error.hpp"
#include "moesim/placement.hpp"
#include "moesim/registries.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moesim {
namespace {

using V = std::vector<int32_t>;

const PlacementRegistry& registry() {
  static const PlacementRegistry reg = [] {
    PlacementRegistry r("placement");
    register_builtin_placements(r);
    return r;
  }();
  return reg;
}

Placement make(const std::string& name, int experts, int devices, int groups = 1, const PlacementSpec* spec = nullptr) {
  PlacementInput in;
  in.num_experts = experts;
  in.num_devices = devices;
  in.devices_per_node = devices;
  in.groups = groups;
  in.spec = spec;
  return registry().get(name).factory(in, "s.yaml", "setups[0].placement");
}

// Runs f, expects an Error, returns it (what(), key and value are then asserted by the caller).
template <class F>
Error expect_error(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected moesim::Error";
  return Error("", "", "", "");
}

TEST(PlacementRegistry, FiveBuiltinsWithOneLineDescriptions) {
  EXPECT_EQ(registry().names_joined(), "by_group, contiguous, eplb, explicit, round_robin");
  for (const auto* e : registry().entries()) {
    EXPECT_FALSE(e->description.empty()) << e->name;
    EXPECT_EQ(e->description.find('\n'), std::string::npos) << e->name;
  }
}

// 8 experts on 4 devices: floor(e * 4 / 8) = e / 2.
TEST(Contiguous, EvenBlocks) {
  const Placement p = make("contiguous", 8, 4);
  EXPECT_EQ(p.phy2log, (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.phy2dev, (V{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(p.logcnt, V(8, 1));
  EXPECT_EQ(p.max_replicas, 1);
}

// 10 experts on 4 devices: floor(4e / 10) for e = 0..9 = 0,0,0,1,1,2,2,2,3,3 (blocks 3,2,3,2).
TEST(Contiguous, UnevenBlocksDifferByAtMostOne) {
  EXPECT_EQ(make("contiguous", 10, 4).phy2dev, (V{0, 0, 0, 1, 1, 2, 2, 2, 3, 3}));
}

// 2 experts on 4 devices: 2 replicas each, expert 0 on devices 0,1 and expert 1 on devices 2,3.
// Replicas take tokens in turn: expert 0 for token 3 uses replica 3 % 2 = 1 = slot 1 = device 1.
TEST(Contiguous, ReplicatesWhenDevicesAreAMultipleOfExperts) {
  const Placement p = make("contiguous", 2, 4);
  EXPECT_EQ(p.phy2log, (V{0, 0, 1, 1}));
  EXPECT_EQ(p.phy2dev, (V{0, 1, 2, 3}));
  EXPECT_EQ(p.logcnt, (V{2, 2}));
  EXPECT_EQ(p.log2phy, (V{0, 1, 2, 3}));
  EXPECT_EQ(p.device_for(0, 3), 1);
  EXPECT_EQ(p.device_for(1, 4), 2);
}

TEST(Contiguous, RejectsDevicesNotAMultipleOfFewerExperts) {
  const Error e = expect_error([] { make("contiguous", 3, 4); });
  EXPECT_EQ(e.key(), "cluster.devices");
  EXPECT_STREQ(e.what(),
               "s.yaml: cluster.devices: contiguous placement needs experts >= devices, or devices a multiple of "
               "experts (3 experts) (got '4')");
}

// 8 experts on 3 devices: e % 3 = 0,1,2,0,1,2,0,1; slots listed by device: dev0 {0,3,6}, dev1 {1,4,7}, dev2 {2,5}.
TEST(RoundRobin, ExpertModDevices) {
  const Placement p = make("round_robin", 8, 3);
  EXPECT_EQ(p.phy2log, (V{0, 3, 6, 1, 4, 7, 2, 5}));
  EXPECT_EQ(p.phy2dev, (V{0, 0, 0, 1, 1, 1, 2, 2}));
  for (int e = 0; e < 8; ++e) EXPECT_EQ(p.device_for(e, 0), e % 3);
}

// 2 experts on 4 devices: device d holds expert d % 2, so expert 0 on {0, 2}, expert 1 on {1, 3}.
TEST(RoundRobin, ReplicasRoundRobin) {
  const Placement p = make("round_robin", 2, 4);
  EXPECT_EQ(p.phy2log, (V{0, 1, 0, 1}));
  EXPECT_EQ(p.log2phy, (V{0, 2, 1, 3}));
  EXPECT_THROW(make("round_robin", 3, 4), Error);
}

// Pangu Pro MoE: 64 experts, 8 groups of 8, 8 devices: expert e on device e / 8.
TEST(ByGroup, GroupPerDevice) {
  const Placement p = make("by_group", 64, 8, 8);
  for (int e = 0; e < 64; ++e) EXPECT_EQ(p.device_for(e, 0), e / 8) << e;
}

// 8 groups of 8 on 16 devices: group j over devices 2j, 2j+1, 4 experts each: device 2 (e / 8) + (e % 8) / 4.
// 8 groups on 4 devices: 2 groups per device: device e / 16.
TEST(ByGroup, SpreadOrPackedWhenOneDividesTheOther) {
  const Placement spread = make("by_group", 64, 16, 8);
  const Placement packed = make("by_group", 64, 4, 8);
  for (int e = 0; e < 64; ++e) {
    EXPECT_EQ(spread.device_for(e, 0), 2 * (e / 8) + (e % 8) / 4) << e;
    EXPECT_EQ(packed.device_for(e, 0), e / 16) << e;
  }
}

// 16 experts in 8 groups of 2 on 32 devices: 4 devices per group, so each expert has 2 replicas:
// group 0 = experts 0,1 on devices 0,1 (expert 0) and 2,3 (expert 1).
TEST(ByGroup, ReplicasInsideAGroup) {
  const Placement p = make("by_group", 16, 32, 8);
  EXPECT_EQ(p.logcnt, V(16, 2));
  EXPECT_EQ(p.phy2log[0], 0);
  EXPECT_EQ(p.phy2log[1], 0);
  EXPECT_EQ(p.phy2log[2], 1);
  EXPECT_EQ(p.phy2dev[3], 3);
}

TEST(ByGroup, RejectsGroupsAndDevicesThatDoNotDivide) {
  const Error e = expect_error([] { make("by_group", 64, 6, 4); });
  EXPECT_EQ(e.key(), "setups[0].placement");
  EXPECT_STREQ(e.what(),
               "s.yaml: setups[0].placement: by_group needs the device count (6) and the expert group count (4) "
               "to divide one another (got 'by_group')");
  EXPECT_THROW(make("by_group", 10, 2, 4), Error);  // 10 experts do not split into 4 groups
}

TEST(Explicit, DeviceOfExpert) {
  PlacementSpec s;
  s.name = "explicit";
  s.device_of_expert = {1, 0, 1, 1};
  const Placement p = make("explicit", 4, 2, 1, &s);
  EXPECT_EQ(p.phy2dev, (V{1, 0, 1, 1}));
  EXPECT_EQ(p.phy2log, (V{0, 1, 2, 3}));
}

// Expert 1 has three replicas (slots 1, 2, 3): log2phy padded with -1 to max_replicas = 3.
TEST(Explicit, PhysicalSlotsWithReplicas) {
  PlacementSpec s;
  s.phy2log = {0, 1, 1, 1};
  s.phy2dev = {0, 0, 1, 1};
  const Placement p = make("explicit", 2, 2, 1, &s);
  EXPECT_EQ(p.max_replicas, 3);
  EXPECT_EQ(p.logcnt, (V{1, 3}));
  EXPECT_EQ(p.log2phy, (V{0, -1, -1, 1, 2, 3}));
  EXPECT_EQ(p.slot_for(1, 5), 3);  // 5 % 3 = 2 -> third replica = slot 3
}

TEST(Explicit, ErrorsNameTheKeyAndValue) {
  PlacementSpec s;
  s.device_of_expert = {0, 2};
  Error e = expect_error([&] { make("explicit", 2, 2, 1, &s); });
  EXPECT_STREQ(e.what(), "s.yaml: setups[0].placement.device_of_expert[1]: device id must be in [0, 2) (got '2')");
  s.device_of_expert = {0};
  e = expect_error([&] { make("explicit", 2, 2, 1, &s); });
  EXPECT_EQ(e.key(), "setups[0].placement.device_of_expert");
  s.phy2log = {0};
  s.phy2dev = {0};
  e = expect_error([&] { make("explicit", 2, 2, 1, &s); });  // both forms given
  EXPECT_EQ(e.key(), "setups[0].placement");
  e = expect_error([&] { make("explicit", 2, 2, 1, nullptr); });
  EXPECT_EQ(e.key(), "setups[0].placement");
}

TEST(FromPhysical, ValidatesEverySlot) {
  Error e = expect_error([] { Placement::from_physical(2, 2, {0, 0}, {0, 1}, "f.yaml", "p"); });
  EXPECT_STREQ(e.what(), "f.yaml: p.phy2log: logical expert has no physical slot; every expert in [0, 2) needs at least one (got '1')");
  e = expect_error([] { Placement::from_physical(2, 2, {0, 3}, {0, 1}, "f.yaml", "p"); });
  EXPECT_STREQ(e.what(), "f.yaml: p.phy2log[1]: logical expert id must be in [0, 2) (got '3')");
  e = expect_error([] { Placement::from_physical(2, 2, {0, 1}, {0, -1}, "f.yaml", "p"); });
  EXPECT_STREQ(e.what(), "f.yaml: p.phy2dev[1]: device id must be in [0, 2) (got '-1')");
  e = expect_error([] { Placement::from_physical(2, 2, {0, 1}, {0}, "f.yaml", "p"); });
  EXPECT_EQ(e.key(), "p.phy2dev");
}

}  // namespace
}  // namespace moesim
