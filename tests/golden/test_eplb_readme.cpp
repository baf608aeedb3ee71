// Golden: the example of DeepSeek EPLB's README (deepseek-ai/EPLB, README.md and example.py), reproduced
// exactly: 2 layers of 12 logical experts, 16 replicas, 4 groups, 2 nodes, 8 GPUs, hierarchical policy
// (4 groups % 2 nodes == 0). The expected phy2log is the README's printed output, not ours.
#include "placement/eplb.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace moesim::eplb {
namespace {

const WeightMatrix kReadmeWeight = {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
                                    {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};

TEST(EplbReadme, Phy2LogMatchesThePublishedOutput) {
  const Rebalance r = rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  EXPECT_TRUE(r.hierarchical);
  const std::vector<std::vector<int32_t>> expected = {{5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
                                                      {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  EXPECT_EQ(r.phy2log, expected);
}

// logcnt follows from the published phy2log: count each expert's slots.
// Layer 0: experts 1, 4, 5, 10 appear twice; layer 1: experts 1, 5, 6, 8 appear twice.
TEST(EplbReadme, LogcntCountsEachExpertsSlots) {
  const Rebalance r = rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  const std::vector<std::vector<int32_t>> expected = {{1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1},
                                                      {1, 2, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1}};
  EXPECT_EQ(r.logcnt, expected);
  EXPECT_EQ(r.max_replicas, 2);
}

// log2phy lists each expert's slots by replica rank, -1 padded; every slot appears exactly once, under
// the expert phy2log names. (Which copy is rank 0 is EPLB's replica order, not physical order.)
TEST(EplbReadme, Log2PhyInvertsPhy2Log) {
  const Rebalance r = rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  ASSERT_EQ(r.log2phy.size(), 2u);
  for (size_t l = 0; l < 2; ++l) {
    std::vector<int> seen(16, 0);
    for (size_t e = 0; e < 12; ++e) {
      ASSERT_EQ(r.log2phy[l][e].size(), 2u);
      for (int k = 0; k < 2; ++k) {
        const int32_t p = r.log2phy[l][e][static_cast<size_t>(k)];
        if (k >= r.logcnt[l][e]) {
          EXPECT_EQ(p, -1);
          continue;
        }
        ASSERT_TRUE(p >= 0 && p < 16);
        EXPECT_EQ(r.phy2log[l][static_cast<size_t>(p)], static_cast<int32_t>(e));
        ++seen[static_cast<size_t>(p)];
      }
    }
    for (int c : seen) EXPECT_EQ(c, 1);
  }
}

}  // namespace
}  // namespace moesim::eplb
