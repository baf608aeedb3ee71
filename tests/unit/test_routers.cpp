// Unit tests of the built-in routers and apply_capacity on hand-derivable cases.
// Every expectation is derived in the comment above it. Shapes: scores [tokens, experts],
// assignments [tokens, slots]. The validators' errors are tested in test_router_validate.cpp.
#include "moesim/router.hpp"
#include "support/router_cases.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <initializer_list>
#include <set>
#include <vector>

namespace moesim {
namespace {

using test::route;
using test::scores_of;
using test::spec_of;

// Token t's slots: experts and weights.
void expect_token(const Assignments& a, int64_t t, std::vector<int> experts, std::vector<double> weights) {
  ASSERT_EQ(a.slots, static_cast<int>(experts.size()));
  for (int s = 0; s < a.slots; ++s) {
    EXPECT_EQ(a.expert_at(t, s), experts[s]) << "token " << t << " slot " << s;
    EXPECT_NEAR(a.weight_at(t, s), weights[s], 1e-6) << "token " << t << " slot " << s;
  }
}

const double ln2 = std::log(2.0), ln3 = std::log(3.0), ln4 = std::log(4.0);
// sigmoid^-1(p) = ln(p / (1 - p)).
double logit(double p) { return std::log(p / (1 - p)); }

// logits [0, ln2, ln3, ln4] -> exp [1, 2, 3, 4] / 10 -> softmax [0.1, 0.2, 0.3, 0.4]; k=2 -> experts 3, 2.
TEST(TopK, SoftmaxPicksLargestBestFirst) {
  const Assignments a = route(spec_of("topk", 4, 2), scores_of({{0, ln2, ln3, ln4}}));
  expect_token(a, 0, {3, 2}, {0.4, 0.3});
  EXPECT_EQ(a.requested, 2);
  EXPECT_EQ(a.dropped_count, 0);
}

// Same probabilities; normalize: [0.4, 0.3] / 0.7 = [4/7, 3/7]; scaling 2.5: [10/7, 7.5/7].
TEST(TopK, NormalizeThenScale) {
  RouterSpec s = spec_of("topk", 4, 2);
  s.normalize = true;
  s.scaling = 2.5;
  expect_token(route(s, scores_of({{0, ln2, ln3, ln4}})), 0, {3, 2}, {10.0 / 7, 7.5 / 7});
}

// Equal logits [1, 1, 1, 1]: softmax 0.25 each; ties go to the lower expert -> 0, 1, with or without a
// (zero) bias.
TEST(TopK, TiesGoToLowerExpert) {
  const Scores x = scores_of({{1, 1, 1, 1}});
  expect_token(route(spec_of("topk", 4, 2), x), 0, {0, 1}, {0.25, 0.25});
  expect_token(route(spec_of("topk", 4, 2), x, {0, 0, 0, 0}), 0, {0, 1}, {0.25, 0.25});
}

// softmax [0.1, 0.2, 0.3, 0.4] + bias [0.35, 0, 0, 0] = keys [0.45, 0.2, 0.3, 0.4] -> experts 0, 3;
// weights stay the probabilities [0.1, 0.4] (bias selects only).
TEST(TopK, BiasSelectsButDoesNotWeigh) {
  expect_token(route(spec_of("topk", 4, 2), scores_of({{0, ln2, ln3, ln4}}), {0.35f, 0, 0, 0}), 0, {0, 3}, {0.1, 0.4});
}

// sigmoid(0) = 1/2, sigmoid(ln3) = 3/4, sigmoid(-ln3) = 1/4; k=2 -> experts 1, 0 with [0.75, 0.5];
// normalized: [0.75, 0.5] / 1.25 = [0.6, 0.4].
TEST(TopK, Sigmoid) {
  RouterSpec s = spec_of("topk", 3, 2);
  s.scoring = ScoringFunc::sigmoid;
  expect_token(route(s, scores_of({{0, ln3, -ln3}})), 0, {1, 0}, {0.75, 0.5});
  s.normalize = true;
  expect_token(route(s, scores_of({{0, ln3, -ln3}})), 0, {1, 0}, {0.6, 0.4});
}

// logits [1e30, -1e30, 0, 3e38]: order 3, 0; softmax: exp(0) / (1 + exp(-huge)...) = 1 for expert 3,
// exp(1e30 - 3e38) = 0 for expert 0. Weights stay finite.
TEST(TopK, ExtremeFiniteLogits) {
  expect_token(route(spec_of("topk", 4, 2), scores_of({{1e30, -1e30, 0, 3e38}})), 0, {3, 0}, {1.0, 0.0});
}

// Softmax with +inf logits is defined by its limit: the +inf experts share the mass equally, the others
// get 0 (exp(x - m) -> 0 for finite x as m -> inf). [1, +inf, 0, +inf], k=3: selection on the logits
// gives 1, 3 (equal: lower first), then 0; weights 1/2, 1/2, 0. A row of only -inf is the limit of equal
// logits: uniform, 1/4 each, experts 0, 1 (ties). (Before, both rows gave NaN weights.)
TEST(TopK, InfiniteLogitsTakeTheSoftmaxLimit) {
  const double inf = std::numeric_limits<double>::infinity();
  expect_token(route(spec_of("topk", 4, 3), scores_of({{1, inf, 0, inf}})), 0, {1, 3, 0}, {0.5, 0.5, 0.0});
  expect_token(route(spec_of("topk", 4, 2), scores_of({{-inf, -inf, -inf, -inf}})), 0, {0, 1}, {0.25, 0.25});
}

// k = 18 > 16 uses the collect-and-sort path. logits e for e = 0..19: experts 19, 18, ..., 2;
// weight of 19 = e^19 / sum_{i<20} e^i = (1 - 1/e) / (1 - e^-20) = 0.6321205588.
TEST(TopK, LargeK) {
  std::vector<double> row(20);
  for (int e = 0; e < 20; ++e) row[e] = e;
  const Assignments a = route(spec_of("topk", 20, 18), scores_of({row}));
  for (int s = 0; s < 18; ++s) EXPECT_EQ(a.expert_at(0, s), 19 - s);
  EXPECT_NEAR(a.weight_at(0, 0), (1 - std::exp(-1.0)) / (1 - std::exp(-20.0)), 1e-6);
}

// E=4 in 2 groups {0,1}, {2,3}, k=2 -> one per group, group 0 first.
// token 0: softmax [0.1, 0.2, 0.3, 0.4] -> group 0 best is 1 (0.2), group 1 best is 3 (0.4).
// token 1: softmax [0.4, 0.3, 0.2, 0.1] -> 0 (0.4) and 2 (0.2), although plain top-2 would take 0 and 1.
TEST(Moge, OnePerGroupGroupZeroFirst) {
  RouterSpec s = spec_of("moge", 4, 2);
  s.groups = 2;
  const Assignments a = route(s, scores_of({{0, ln2, ln3, ln4}, {ln4, ln3, ln2, 0}}));
  expect_token(a, 0, {1, 3}, {0.2, 0.4});
  expect_token(a, 1, {0, 2}, {0.4, 0.2});
}

// k=4, 2 groups -> 2 per group, each group best first: [1, 0 | 3, 2] with [0.2, 0.1 | 0.4, 0.3].
TEST(Moge, SeveralPerGroup) {
  RouterSpec s = spec_of("moge", 4, 4);
  s.groups = 2;
  expect_token(route(s, scores_of({{0, ln2, ln3, ln4}})), 0, {1, 0, 3, 2}, {0.2, 0.1, 0.4, 0.3});
}

// +inf in MoGE: [+inf, 0 | 1, 2], one per group: group 0 -> expert 0 (+inf), group 1 -> expert 3; the
// softmax limit gives all the mass to expert 0: weights 1, 0.
TEST(Moge, InfiniteLogitTakesAllTheMass) {
  RouterSpec s = spec_of("moge", 4, 2);
  s.groups = 2;
  const double inf = std::numeric_limits<double>::infinity();
  expect_token(route(s, scores_of({{inf, 0, 1, 2}})), 0, {0, 3}, {1.0, 0.0});
}

// DeepSeek-V3 group-limited, sigmoid scores s = [.9, .05 | .2, .8 | .7, .75 | .3, .4] (4 groups of 2),
// topk_group = 2, k = 3.
RouterSpec v3_spec() {
  RouterSpec s = spec_of("group_limited", 8, 3);
  s.groups = 4;
  s.topk_group = 2;
  s.scoring = ScoringFunc::sigmoid;
  return s;
}
Scores v3_scores() {
  return scores_of({{logit(.9), logit(.05), logit(.2), logit(.8), logit(.7), logit(.75), logit(.3), logit(.4)}});
}

// No bias: group score = group max: [.9, .8, .75, .4] -> groups 0, 1 -> experts {0,1,2,3} -> top-3:
// 0 (.9), 3 (.8), 2 (.2); plain top-3 would have taken 5 (.75).
// normalize + scaling 2.5: [.9, .8, .2] / 1.9 * 2.5.
TEST(GroupLimited, NoBiasUsesGroupMax) {
  RouterSpec s = v3_spec();
  expect_token(route(s, v3_scores()), 0, {0, 3, 2}, {.9, .8, .2});
  s.normalize = true;
  s.scaling = 2.5;
  expect_token(route(s, v3_scores()), 0, {0, 3, 2}, {.9 / 1.9 * 2.5, .8 / 1.9 * 2.5, .2 / 1.9 * 2.5});
}

// group_score top2_sum (DeepSeek-V3 noaux_tc): group score = top-2 sum: [.95, 1.0, 1.45, .7] -> groups
// 2, 1 -> experts {2,3,4,5} -> 3 (.8), 5 (.75), 4 (.7). The same with no bias and with a zero bias; a
// zero bias with group_score max stays with the group max (groups 0, 1 as in NoBiasUsesGroupMax).
TEST(GroupLimited, TopTwoSumWithOrWithoutBias) {
  RouterSpec s = v3_spec();
  s.group_score = GroupScore::top2_sum;
  expect_token(route(s, v3_scores()), 0, {3, 5, 4}, {.8, .75, .7});
  expect_token(route(s, v3_scores(), std::vector<float>(8, 0.0f)), 0, {3, 5, 4}, {.8, .75, .7});
  expect_token(route(v3_spec(), v3_scores(), std::vector<float>(8, 0.0f)), 0, {0, 3, 2}, {.9, .8, .2});
}

// top2_sum adds sigmoid scores, not logits: 2 groups of 2, topk_group 1, k 1, logits [3, 3 | 10, -1].
// Scores: sigmoid(3) = 0.952574 twice -> 1.905148; sigmoid(10) + sigmoid(-1) = 0.999955 + 0.268941 =
// 1.268896 -> group 0 wins (a sum of logits, 6 vs 9, would pick group 1) -> expert 0 (tie with 1 -> lower).
TEST(GroupLimited, TopTwoSumAddsScoresNotLogits) {
  RouterSpec s = spec_of("group_limited", 4, 1);
  s.groups = 2;
  s.topk_group = 1;
  s.scoring = ScoringFunc::sigmoid;
  s.group_score = GroupScore::top2_sum;
  expect_token(route(s, scores_of({{3, 3, 10, -1}})), 0, {0}, {1 / (1 + std::exp(-3.0))});
}

// bias +0.5 on experts 6, 7, top2_sum: biased group 3 = {.8, .9}, sum 1.7 > group 2's 1.45 > 1.0 > .95
// -> groups 3, 2 -> biased {4: .7, 5: .75, 6: .8, 7: .9} -> 7, 6, 5; weights unbiased [.4, .3, .75].
TEST(GroupLimited, BiasSelectsButDoesNotWeigh) {
  RouterSpec s = v3_spec();
  s.group_score = GroupScore::top2_sum;
  expect_token(route(s, v3_scores(), {0, 0, 0, 0, 0, 0, 0.5f, 0.5f}), 0, {7, 6, 5}, {.4, .3, .75});
}

// A static bias in the spec (router.bias) acts as if route() had been given it; a bias passed to route()
// (the dynamic one) takes its place. Same case as above: static +0.5 on 6, 7 -> 7, 6, 5; passing +0.5 on
// experts 0, 1 instead: group 0 = {1.4, .55} -> 1.95 first, then group 2 (1.45) -> 0, 5, 4.
TEST(GroupLimited, StaticBiasUnlessOneIsPassed) {
  RouterSpec s = v3_spec();
  s.group_score = GroupScore::top2_sum;
  s.bias = {0, 0, 0, 0, 0, 0, 0.5f, 0.5f};
  expect_token(route(s, v3_scores()), 0, {7, 6, 5}, {.4, .3, .75});
  expect_token(route(s, v3_scores(), {0.5f, 0.5f, 0, 0, 0, 0, 0, 0}), 0, {0, 5, 4}, {.9, .75, .7});
}

// topk_group = 0 keeps every group: the result is plain top-3: 0 (.9), 3 (.8), 5 (.75).
TEST(GroupLimited, TopkGroupZeroMeansAllGroups) {
  RouterSpec s = v3_spec();
  s.topk_group = 0;
  expect_token(route(s, v3_scores()), 0, {0, 3, 5}, {.9, .8, .75});
}

// Softmax group-limited with +inf: 4 groups of 2, topk_group 2, k 3, logits [0, +inf | 1, 2 | +inf, 3 |
// 5, 4]. Group maxima +inf, 2, +inf, 5 -> groups 0, 2 (the +inf tie: lower group first) -> experts
// {0, 1, 4, 5} -> 1, 4 (+inf, lower first), 5 (3); limit weights 1/2, 1/2, 0.
TEST(GroupLimited, InfiniteLogitsTakeTheSoftmaxLimit) {
  RouterSpec s = spec_of("group_limited", 8, 3);
  s.groups = 4;
  s.topk_group = 2;
  const double inf = std::numeric_limits<double>::infinity();
  expect_token(route(s, scores_of({{0, inf, 1, 2, inf, 3, 5, 4}})), 0, {1, 4, 5}, {0.5, 0.5, 0.0});
}

// Expert choice, softmax, +inf: 2 tokens, 2 experts, k 1, cf 1 -> C = 1. Token 0 [+inf, 0] scores
// [1, 0] (the limit), token 1 [0, 0] scores [1/2, 1/2]. Expert 0 takes token 0 (1 > 1/2), expert 1
// token 1 (1/2 > 0): weights 1 and 1/2, no NaN.
TEST(ExpertChoice, InfiniteLogitTakesTheSoftmaxLimit) {
  const double inf = std::numeric_limits<double>::infinity();
  const Assignments a = route(spec_of("expert_choice", 2, 1), scores_of({{inf, 0}, {0, 0}}));
  expect_token(a, 0, {0}, {1.0});
  expect_token(a, 1, {1}, {0.5});
}

// 4 tokens, 4 experts, k=1, cf=1 -> C = ceil(4 * 1 / 4) = 1 token per expert.
// token 0 softmax [.4, .3, .2, .1]; tokens 1-3 uniform .25. Expert 0: .4 beats .25 -> token 0;
// expert 1: .3 -> token 0; experts 2, 3: .25 (tokens 1-3 tie) beats .2/.1 -> lowest token, 1.
// Token 0 gets {0, 1}, token 1 gets {2, 3} (equal weights -> lower expert first); tokens 2, 3 none.
TEST(ExpertChoice, ExpertsPickTheirBestTokens) {
  const Assignments a = route(spec_of("expert_choice", 4, 1),
                              scores_of({{ln4, ln3, ln2, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}));
  expect_token(a, 0, {0, 1}, {.4, .3});
  expect_token(a, 1, {2, 3}, {.25, .25});
  expect_token(a, 2, {kNoExpert, kNoExpert}, {0, 0});
  expect_token(a, 3, {kNoExpert, kNoExpert}, {0, 0});
  EXPECT_EQ(a.requested, 4);
  EXPECT_EQ(a.dropped_count, 0);  // 4 experts * C=1 = 4 kept = requested
}

// 8 uniform tokens, 4 experts, k=1, cf=0.5 -> C = ceil(0.5 * 8 / 4) = 1. All tie -> every expert takes
// token 0: slots = 4, weights .25; requested 8, kept 4 -> dropped_count 4.
TEST(ExpertChoice, CapacityFactorBelowOneLeavesRequestsUnfilled) {
  RouterSpec s = spec_of("expert_choice", 4, 1);
  s.capacity_factor = 0.5;
  std::vector<double> zero(4, 0.0);
  const Assignments a = route(s, scores_of({zero, zero, zero, zero, zero, zero, zero, zero}));
  expect_token(a, 0, {0, 1, 2, 3}, {.25, .25, .25, .25});
  for (int t = 1; t < 8; ++t) expect_token(a, t, {-1, -1, -1, -1}, {0, 0, 0, 0});
  EXPECT_EQ(a.requested, 8);
  EXPECT_EQ(a.dropped_count, 4);
}

// The router ranks only the tokens above a guess taken from every 8th token, and the whole column when
// fewer than C are above it. 256 tokens, 16 experts, k 1, factor 1 -> C = 16 (< 256 / 4: the guess is
// used). Tokens t = 0, 8, ..., 248 (the sampled ones) have logit 10 + t / 256 on expert 0 and 0 elsewhere,
// every other token all zeros. The guess is the 7th largest sample (16 * 5 / 4 / 8 + 4 = 6 above it), so
// only 7 tokens reach it: the whole column is ranked. Expert 0 takes the 16 sampled tokens of largest t,
// 128 .. 248; experts 1-15 score the sampled tokens 1 / (e^(10 + t/256) + 15) < 1/16 and every other token
// 1/16, so each takes the 16 lowest unsampled tokens 1-7, 9-15, 17, 18 (ties -> lower token), weight 1/16.
TEST(ExpertChoice, GuessKeepingTooFewTokensFallsBackToTheWholeColumn) {
  Scores x = Scores::Zero(256, 16);
  for (int t = 0; t < 256; t += 8) x(t, 0) = 10.0f + static_cast<float>(t) / 256.0f;
  RouterSpec s = spec_of("expert_choice", 16, 1);
  s.capacity_factor = 1.0;
  const Assignments a = route(s, x);
  EXPECT_EQ(a.slots, 15);
  for (int t = 0; t < 256; ++t) {
    const bool sampled = t % 8 == 0, low_unsampled = !sampled && t <= 18;
    if (sampled && t >= 128) {
      EXPECT_EQ(a.expert_at(t, 0), 0) << "token " << t;
      EXPECT_EQ(a.expert_at(t, 1), kNoExpert) << "token " << t;
    } else if (low_unsampled) {
      for (int sl = 0; sl < 15; ++sl) {
        EXPECT_EQ(a.expert_at(t, sl), sl + 1) << "token " << t;
        EXPECT_NEAR(a.weight_at(t, sl), 1.0 / 16, 1e-7) << "token " << t;
      }
    } else {
      EXPECT_EQ(a.expert_at(t, 0), kNoExpert) << "token " << t;
    }
  }
}

// Hash: identical rows (tokens 0, 2) get identical experts; each token gets 3 distinct experts;
// weights 1/k * scaling = 1/3 * 1.5 = 0.5.
TEST(Hash, SameContentSameDistinctExperts) {
  RouterSpec s = spec_of("hash", 8, 3);
  s.scaling = 1.5;
  const Assignments a = route(s, scores_of({{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3, 4, 5, 6, 7, 9}, {1, 2, 3, 4, 5, 6, 7, 8}}));
  for (int t = 0; t < 3; ++t) {
    std::set<int> seen;
    for (int sl = 0; sl < 3; ++sl) {
      seen.insert(a.expert_at(t, sl));
      EXPECT_FLOAT_EQ(a.weight_at(t, sl), 0.5f);
    }
    EXPECT_EQ(seen.size(), 3u);
  }
  for (int sl = 0; sl < 3; ++sl) EXPECT_EQ(a.expert_at(0, sl), a.expert_at(2, sl));
}

// 8000 distinct tokens, 8 experts, k=1: each expert expects 1000, std sqrt(8000 * 1/8 * 7/8) = 29.6;
// all within 1000 +- 120 (4 sigma).
TEST(Hash, SpreadsTokensEvenly) {
  Scores x(8000, 8);
  for (int t = 0; t < 8000; ++t)
    for (int e = 0; e < 8; ++e) x(t, e) = static_cast<float>(t * 8 + e);
  const Assignments a = route(spec_of("hash", 8, 1), x);
  std::vector<int> count(8, 0);
  for (int t = 0; t < 8000; ++t) ++count[a.expert_at(t, 0)];
  for (int e = 0; e < 8; ++e) EXPECT_NEAR(count[e], 1000, 120) << "expert " << e;
}

// 4 tokens all on expert 0, 2 experts, k=1, factor 1 -> C = ceil(1 * 4 * 1 / 2) = 2: tokens 0, 1 kept,
// tokens 2, 3 dropped (weight 0), dropped_count 2. Factor 1.5 -> C = 3: only token 3 dropped.
TEST(Capacity, EarlierTokensWin) {
  auto make = [] {
    Assignments a;
    a.resize(4, 1);
    for (int t = 0; t < 4; ++t) a.weight[t] = 1.0f, a.expert[t] = 0;
    return a;
  };
  Assignments a = make();
  apply_capacity(CapacitySpec{1.0}, 2, 1, a);
  EXPECT_TRUE(a.is_kept(0, 0) && a.is_kept(1, 0));
  EXPECT_TRUE(a.is_dropped(2, 0) && a.is_dropped(3, 0));
  EXPECT_EQ(a.weight_at(2, 0), 0.0f);
  EXPECT_EQ(a.expert_at(2, 0), 0);  // a dropped slot still names the expert it wanted
  EXPECT_EQ(a.dropped_count, 2);
  Assignments b = make();
  apply_capacity(CapacitySpec{1.5}, 2, 1, b);
  EXPECT_EQ(b.dropped_count, 1);
  EXPECT_TRUE(b.is_dropped(3, 0));
  Assignments c = make();
  apply_capacity(CapacitySpec{0.0}, 2, 1, c);  // factor 0: dropless
  EXPECT_EQ(c.dropped_count, 0);
  EXPECT_TRUE(c.dropped.empty());
}

// GShard priority: 2 tokens, 2 experts, k=2, token 0 wants [0, 1], token 1 wants [1, 0]; factor 0.5 ->
// C = ceil(0.5 * 2 * 2 / 2) = 1. Slot 0 first: token 0 takes expert 0, token 1 takes expert 1 (both
// buffers now full); slot 1: token 0's expert 1 and token 1's expert 0 are dropped. Each token keeps its
// 1st choice. (Token by token, token 0 would have filled both experts and token 1 would get neither.)
TEST(Capacity, FirstChoicesOfAllTokensBeforeSecondChoices) {
  Assignments a;
  a.resize(2, 2);
  a.expert = {0, 1, 1, 0};
  a.weight = {0.6f, 0.4f, 0.7f, 0.3f};
  apply_capacity(CapacitySpec{0.5}, 2, 2, a);
  EXPECT_TRUE(a.is_kept(0, 0) && a.is_kept(1, 0));
  EXPECT_TRUE(a.is_dropped(0, 1) && a.is_dropped(1, 1));
  EXPECT_EQ(a.weight_at(0, 0), 0.6f);
  EXPECT_EQ(a.weight_at(1, 0), 0.7f);
  EXPECT_EQ(a.weight_at(0, 1), 0.0f);
  EXPECT_EQ(a.dropped_count, 2);
}

// factor 1.1, 100 tokens, k=1, 10 experts: C = 1.1 * 100 / 10 = 11 exactly (fp64 gives
// 11.000000000000002, whose naive ceil would be 12). All 100 on expert 0 -> 11 kept, 89 dropped.
TEST(Capacity, ExactIntegerCapacityIsNotRoundedUp) {
  Assignments a;
  a.resize(100, 1);
  std::fill(a.expert.begin(), a.expert.end(), 0);
  apply_capacity(CapacitySpec{1.1}, 10, 1, a);
  EXPECT_EQ(a.dropped_count, 89);
  EXPECT_TRUE(a.is_kept(10, 0));
  EXPECT_TRUE(a.is_dropped(11, 0));
}

}  // namespace
}  // namespace moesim
