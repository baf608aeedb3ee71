// Invariants that every registered placement must keep, for several (experts, devices, groups).
#include "moesim/placement.hpp"
#include "moesim/registries.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>

namespace moesim {
namespace {

struct Shape {
  int experts, devices, groups;
};
// Each shape is valid for every built-in: experts >= devices or devices a multiple of experts, and
// groups and devices dividing one another (with the group size and devices per group likewise).
constexpr Shape kShapes[] = {{8, 4, 1}, {10, 4, 2}, {64, 8, 8}, {64, 16, 8}, {32, 4, 8}, {4, 8, 4}, {16, 32, 8}, {7, 7, 7}};

// A valid spec for each registered name. An unknown name fails the test: a new placement must
// come with its valid input here, so the invariants below cover it.
PlacementSpec valid_spec(const std::string& name, const Shape& s) {
  PlacementSpec spec;
  spec.name = name;
  if (name == "explicit") {
    // Expert e on device (3e + 1) mod D, plus a second copy of expert 0 on the last device.
    for (int e = 0; e < s.experts; ++e) {
      spec.phy2log.push_back(e);
      spec.phy2dev.push_back((3 * e + 1) % s.devices);
    }
    spec.phy2log.push_back(0);
    spec.phy2dev.push_back(s.devices - 1);
  } else if (name == "eplb") {
    // One redundant slot per device beyond the smallest multiple of D covering E, and skewed loads
    // (expert e weighs 1 + (7e mod 5)), so replicas and packing both do work.
    spec.replicas = ((s.experts + s.devices - 1) / s.devices + 1) * s.devices;
    for (int e = 0; e < s.experts; ++e) spec.weight.push_back(1.0 + (7 * e) % 5);
  } else if (name != "contiguous" && name != "round_robin" && name != "by_group") {
    ADD_FAILURE() << "no valid-input helper for placement '" << name << "': add one to valid_spec";
  }
  return spec;
}

void check_invariants(const Placement& p, const Shape& s) {
  ASSERT_EQ(p.num_logical, s.experts);
  ASSERT_EQ(p.num_devices, s.devices);
  ASSERT_EQ(p.phy2log.size(), p.phy2dev.size());
  ASSERT_EQ(p.logcnt.size(), static_cast<size_t>(s.experts));
  ASSERT_EQ(p.log2phy.size(), static_cast<size_t>(s.experts) * p.max_replicas);
  EXPECT_EQ(std::accumulate(p.logcnt.begin(), p.logcnt.end(), 0), p.num_physical());
  EXPECT_EQ(p.max_replicas, *std::max_element(p.logcnt.begin(), p.logcnt.end()));
  for (int32_t d : p.phy2dev) EXPECT_TRUE(d >= 0 && d < s.devices) << d;
  std::vector<int> seen(static_cast<size_t>(p.num_physical()), 0);
  for (int e = 0; e < s.experts; ++e) {
    EXPECT_GE(p.logcnt[e], 1) << "expert " << e;
    for (int r = 0; r < p.max_replicas; ++r) {
      const int32_t slot = p.log2phy[static_cast<size_t>(e) * p.max_replicas + r];
      if (r >= p.logcnt[e]) {
        EXPECT_EQ(slot, -1);
        continue;
      }
      ASSERT_TRUE(slot >= 0 && slot < p.num_physical());
      EXPECT_EQ(p.phy2log[slot], e);
      ++seen[slot];
    }
  }
  for (int c : seen) EXPECT_EQ(c, 1);  // every physical slot listed exactly once
}

// Every token to every expert: replica r of expert e serves the tokens with t % logcnt == r, so each
// slot gets T / c or T / c + 1 of them and the slots of e sum back to T (its logical load).
void check_load_split(const Placement& p, int64_t tokens) {
  std::vector<int64_t> slot_load(static_cast<size_t>(p.num_physical()), 0);
  for (int e = 0; e < p.num_logical; ++e)
    for (int64_t t = 0; t < tokens; ++t) ++slot_load[p.slot_for(e, t)];
  for (int e = 0; e < p.num_logical; ++e) {
    int64_t sum = 0;
    for (int r = 0; r < p.logcnt[e]; ++r) {
      const int64_t load = slot_load[p.log2phy[static_cast<size_t>(e) * p.max_replicas + r]];
      EXPECT_GE(load, tokens / p.logcnt[e]);
      EXPECT_LE(load, tokens / p.logcnt[e] + 1);
      sum += load;
    }
    EXPECT_EQ(sum, tokens) << "expert " << e;
  }
}

TEST(PlacementProperties, EveryRegisteredPlacementOnEveryShape) {
  PlacementRegistry reg("placement");
  register_builtin_placements(reg);
  ASSERT_GE(reg.entries().size(), 4u);
  for (const auto* entry : reg.entries()) {
    for (const Shape& s : kShapes) {
      SCOPED_TRACE(entry->name + " E=" + std::to_string(s.experts) + " D=" + std::to_string(s.devices) +
                   " G=" + std::to_string(s.groups));
      const PlacementSpec spec = valid_spec(entry->name, s);
      PlacementInput in{s.experts, s.devices, s.devices, s.groups, &spec};
      const Placement p = entry->factory(in, "", "setups[0].placement");
      check_invariants(p, s);
      check_load_split(p, 101);
    }
  }
}

}  // namespace
}  // namespace moesim
