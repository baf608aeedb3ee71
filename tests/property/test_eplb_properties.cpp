// Invariants of DeepSeek EPLB's pieces (placement/eplb.cpp) over many shapes and seeded random loads,
// ties included (small integer weights): what must hold whatever the tie-breaking.
#include "placement/eplb.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace moesim::eplb {
namespace {

// n loads, integers in [0, hi] (hi small = many ties) or spread out.
std::vector<float> random_loads(std::mt19937& rng, int n, int hi) {
  std::uniform_int_distribution<int> d(0, hi);
  std::vector<float> w(static_cast<size_t>(n));
  for (auto& x : w) x = static_cast<float>(d(rng));
  return w;
}

// balanced_packing: every pack gets exactly n / m items, every item lands in one pack once, and the
// ranks within a pack are 0 .. n/m - 1, each once.
TEST(EplbPackingProperties, ExactCountsAndEachItemOnce) {
  std::mt19937 rng(12345);
  for (int m = 1; m <= 8; ++m) {
    for (int per = 1; per <= 6; ++per) {
      for (int hi : {1, 3, 1000}) {
        const int n = m * per;
        SCOPED_TRACE("n=" + std::to_string(n) + " m=" + std::to_string(m) + " hi=" + std::to_string(hi));
        const auto w = random_loads(rng, n, hi);
        const Packing p = balanced_packing(w, m);
        ASSERT_EQ(p.pack_index.size(), static_cast<size_t>(n));
        ASSERT_EQ(p.rank_in_pack.size(), static_cast<size_t>(n));
        // seen[pack][rank]: how many items claim that position.
        std::vector<std::vector<int>> seen(static_cast<size_t>(m), std::vector<int>(static_cast<size_t>(per), 0));
        for (int i = 0; i < n; ++i) {
          const int32_t pk = p.pack_index[static_cast<size_t>(i)], r = p.rank_in_pack[static_cast<size_t>(i)];
          ASSERT_TRUE(pk >= 0 && pk < m) << "item " << i << " pack " << pk;
          ASSERT_TRUE(r >= 0 && r < per) << "item " << i << " rank " << r;
          ++seen[static_cast<size_t>(pk)][static_cast<size_t>(r)];
        }
        for (const auto& pack : seen)
          for (int c : pack) EXPECT_EQ(c, 1);  // n/m items per pack, each position held once
      }
    }
  }
}

// Heaviest first: within a pack, items arrive in non-increasing weight (rank order = arrival order).
TEST(EplbPackingProperties, RanksFollowDescendingWeight) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int m = 1 + trial % 5, per = 2 + trial % 4, n = m * per;
    const auto w = random_loads(rng, n, 20);
    const Packing p = balanced_packing(w, m);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        if (p.pack_index[static_cast<size_t>(a)] == p.pack_index[static_cast<size_t>(b)] &&
            p.rank_in_pack[static_cast<size_t>(a)] < p.rank_in_pack[static_cast<size_t>(b)]) {
          EXPECT_GE(w[static_cast<size_t>(a)], w[static_cast<size_t>(b)]);
        }
  }
}

// replicate_experts: counts sum to num_phy, slot i < num_log holds expert i with rank 0, each expert's
// ranks are 0 .. logcnt - 1, and the result is water-filled: an expert with c > 1 copies still had the
// largest load per copy when it got its last one, so w / (c - 1) >= max_j w_j / c_j.
TEST(EplbReplicateProperties, CountsRanksAndWaterFilling) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    const int num_log = 1 + trial % 17, num_phy = num_log + trial % 23;
    const auto w = random_loads(rng, num_log, trial % 2 == 0 ? 5 : 10000);
    const Replication r = replicate_experts(w, num_phy);
    ASSERT_EQ(std::accumulate(r.logcnt.begin(), r.logcnt.end(), 0), num_phy);
    std::vector<std::vector<int>> ranks(static_cast<size_t>(num_log));
    for (int i = 0; i < num_phy; ++i) {
      const auto e = static_cast<size_t>(r.phy2log[static_cast<size_t>(i)]);
      if (i < num_log) {
        EXPECT_EQ(e, static_cast<size_t>(i));
        EXPECT_EQ(r.rank[static_cast<size_t>(i)], 0);
      }
      ranks[e].push_back(r.rank[static_cast<size_t>(i)]);
    }
    float max_load = 0;
    for (int e = 0; e < num_log; ++e)
      max_load = std::max(max_load, w[static_cast<size_t>(e)] / static_cast<float>(r.logcnt[static_cast<size_t>(e)]));
    for (int e = 0; e < num_log; ++e) {
      std::vector<int> expect(static_cast<size_t>(r.logcnt[static_cast<size_t>(e)]));
      std::iota(expect.begin(), expect.end(), 0);
      EXPECT_EQ(ranks[static_cast<size_t>(e)], expect) << "expert " << e;
      const int c = r.logcnt[static_cast<size_t>(e)];
      if (c > 1) {
        EXPECT_GE(w[static_cast<size_t>(e)] / static_cast<float>(c - 1), max_load) << "expert " << e;
      }
    }
  }
}

// rebalance_hierarchical: every expert has logcnt slots (as counted in phy2log), log2phy inverts phy2log
// by rank, and all experts of one group sit on one node (slots node * R/N .. (node + 1) * R/N - 1).
TEST(EplbRebalanceProperties, SlotsCountsAndGroupsStayOnANode) {
  struct Shape {
    int experts, groups, nodes, gpus, replicas;
  };
  const Shape shapes[] = {{12, 4, 2, 8, 16}, {64, 8, 4, 16, 80}, {16, 4, 4, 4, 16}, {32, 8, 2, 8, 48}, {6, 2, 1, 3, 9}};
  std::mt19937 rng(2024);
  for (const Shape& s : shapes) {
    WeightMatrix weight(3);
    for (auto& row : weight)
      for (float x : random_loads(rng, s.experts, 50)) row.push_back(x);
    const Rebalance r = rebalance_hierarchical(weight, s.replicas, s.groups, s.nodes, s.gpus);
    const int group_size = s.experts / s.groups, slots_per_node = s.replicas / s.nodes;
    for (size_t l = 0; l < weight.size(); ++l) {
      std::vector<int> count(static_cast<size_t>(s.experts), 0), node_of_group(static_cast<size_t>(s.groups), -1);
      for (int p = 0; p < s.replicas; ++p) {
        const int e = r.phy2log[l][static_cast<size_t>(p)];
        ++count[static_cast<size_t>(e)];
        EXPECT_EQ(r.log2phy[l][static_cast<size_t>(e)][static_cast<size_t>(r.phyrank[l][static_cast<size_t>(p)])], p);
        int& node = node_of_group[static_cast<size_t>(e / group_size)];
        if (node < 0) node = p / slots_per_node;
        EXPECT_EQ(node, p / slots_per_node) << "group " << e / group_size << " split over nodes";
      }
      for (int e = 0; e < s.experts; ++e) EXPECT_EQ(count[static_cast<size_t>(e)], r.logcnt[l][static_cast<size_t>(e)]);
    }
  }
}

}  // namespace
}  // namespace moesim::eplb
