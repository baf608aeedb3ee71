// The simulator's blocked step (sim/blocked_step.hpp) against the plain one, over EVERY registered
// router: generating a synthetic batch and routing it in cache-sized blocks must give bit for bit the
// assignments of Workload::generate (the whole [tokens, experts] batch) followed by Router::route, for
// every token-wise router, whatever the thread count and the batch size (block multiples and not), with
// and without a selection bias, with and without sequence correlation. The routers that need the whole
// batch (expert choice) must say so (tokenwise() is null), so the simulator never blocks them.
#include "moesim/registries.hpp"
#include "moesim/rng.hpp"
#include "sim/blocked_step.hpp"
#include "workload/synthetic.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moesim {
namespace {

// 256 experts: blocks of 64 tokens; 64 experts: blocks of 256 tokens (block_tokens: 64 KB of fp32).
struct Shape {
  int experts, k, groups, topk_group;
};

// A valid spec per registered router; variant 0: softmax, 1: sigmoid + normalised + scaled 2.5 (the
// DeepSeek-V3 form, top-2-sum group scores for group_limited).
using SpecMaker = std::function<RouterSpec(const Shape&, int variant)>;
std::map<std::string, SpecMaker> spec_makers() {
  auto base = [](const std::string& name, const Shape& sh, int v) {
    RouterSpec s;
    s.name = name;
    s.num_experts = sh.experts;
    s.k = sh.k;
    s.groups = sh.groups;
    s.scoring = v ? ScoringFunc::sigmoid : ScoringFunc::softmax;
    s.normalize = v != 0;
    s.scaling = v ? 2.5 : 1.0;
    return s;
  };
  return {
      {"topk", [=](const Shape& sh, int v) { return base("topk", sh, v); }},
      {"moge", [=](const Shape& sh, int v) { return base("moge", sh, v); }},
      {"hash", [=](const Shape& sh, int v) { return base("hash", sh, v); }},
      {"group_limited",
       [=](const Shape& sh, int v) {
         RouterSpec s = base("group_limited", sh, v);
         s.topk_group = sh.topk_group;
         s.group_score = v ? GroupScore::top2_sum : GroupScore::max;
         return s;
       }},
      {"expert_choice",
       [=](const Shape& sh, int v) {
         RouterSpec s = base("expert_choice", sh, v);
         s.capacity_factor = 1.25;
         return s;
       }},
  };
}

WorkloadInput synthetic(int experts, double correlation) {
  WorkloadInput in;
  in.spec.popularity = Popularity::zipf;
  in.spec.zipf_exponent = 1.2;
  in.spec.layer_sigma = 0.3;
  in.spec.sequence_correlation = correlation;
  in.spec.logit_scale = 1.5;
  in.num_experts = experts;
  in.num_layers = 2;
  in.tokens_per_sequence = 5;  // sequences straddle block edges
  in.seed = 11;
  return in;
}

std::vector<float> small_bias(int experts) {
  const Philox rng(3, 77);
  std::vector<float> b(static_cast<size_t>(experts));
  for (int e = 0; e < experts; ++e)
    b[static_cast<size_t>(e)] = 0.02f * static_cast<float>(Philox::to_unit_open_d(rng.words(e)[0]) - 0.5);
  return b;
}

bool same(const Assignments& a, const Assignments& b) {
  return a.tokens == b.tokens && a.slots == b.slots && a.requested == b.requested && a.dropped == b.dropped &&
         a.dropped_count == b.dropped_count &&
         a.expert == b.expert &&
         std::memcmp(a.weight.data(), b.weight.data(), sizeof(float) * a.weight.size()) == 0;
}

TEST(BlockedStep, BlockSizeIs64KBOfLogitsInMultiplesOfEight) {
  // 64 KB / (4 B x 256 experts) = 64 tokens; / (4 x 64) = 256; 10 experts: 1638.4 -> 1632 (multiple
  // of 8); 100000 experts: 0.16 -> at least 8.
  EXPECT_EQ(block_tokens(256), 64);
  EXPECT_EQ(block_tokens(64), 256);
  EXPECT_EQ(block_tokens(10), 1632);
  EXPECT_EQ(block_tokens(100000), 8);
}

TEST(BlockedStep, RowsFillEqualsTheWholeBatchOnAnyRange) {
  for (double corr : {0.0, 0.5, 1.0}) {
    const WorkloadInput in = synthetic(64, corr);
    const auto w = workload_detail::make_synthetic_workload(in);
    ThreadPool pool(1);
    Scores whole;
    w->generate(3, 1, 700, whole, pool);
    const std::unique_ptr<BatchRows> rows = w->rows(3, 1);
    ASSERT_NE(rows, nullptr);
    std::vector<float> part(static_cast<size_t>((301 - 37) * 64));
    rows->fill(37, 301, part.data());  // starts mid-sequence (37 = 7 x 5 + 2)
    EXPECT_EQ(std::memcmp(part.data(), whole.data() + 37 * 64, part.size() * sizeof(float)), 0) << "corr " << corr;
  }
}

TEST(BlockedStep, EveryTokenwiseRouterGivesTheBitsOfGenerateThenRoute) {
  const Registries& reg = builtin_registries();
  const auto makers = spec_makers();
  int blocked_routers = 0;
  for (const auto* entry : reg.routers.entries()) {
    ASSERT_TRUE(makers.count(entry->name)) << "no spec for router '" << entry->name << "': add one to spec_makers";
    bool counted = false;
    for (const Shape sh : {Shape{256, 8, 8, 4}, Shape{64, 8, 8, 4}}) {
      for (int variant : {0, 1}) {
        const RouterSpec spec = makers.at(entry->name)(sh, variant);
        const std::unique_ptr<Router> router = entry->factory.make(spec);
        const TokenwiseRouter* tw = router->tokenwise();
        if (entry->name == "expert_choice") {
          EXPECT_EQ(tw, nullptr) << "expert choice needs the whole batch";
          continue;
        }
        ASSERT_NE(tw, nullptr) << entry->name << " decides token by token and should say so";
        if (!counted) ++blocked_routers, counted = true;
        for (double corr : {0.0, 0.5}) {
          const auto workload = workload_detail::make_synthetic_workload(synthetic(sh.experts, corr));
          // 2100: 8 blocks of 256 and a tail of 52 at 64 experts, 32 of 64 + 52 at 256; 1027: a 3-token tail.
          for (int64_t tokens : {int64_t{2100}, int64_t{1027}, int64_t{5}}) {
            for (bool with_bias : {false, true}) {
              const std::vector<float> bias = with_bias ? small_bias(sh.experts) : std::vector<float>{};
              ThreadPool one(1);
              Scores scores;
              workload->generate(4, 1, tokens, scores, one);
              Assignments expected;
              router->route(scores, bias, expected, one);
              for (int threads : {1, 2}) {
                SCOPED_TRACE(entry->name + " E=" + std::to_string(sh.experts) + " variant " + std::to_string(variant) +
                             " corr " + std::to_string(corr) + " tokens " + std::to_string(tokens) +
                             (with_bias ? " bias" : "") + " threads " + std::to_string(threads));
                ThreadPool pool(threads);
                Assignments got;
                got.reshape(3, 1);  // stale contents must be replaced
                const BlockRoute route{tw, bias, &got};
                generate_and_route(*workload->rows(4, 1), tokens, sh.experts, {&route, 1}, pool);
                EXPECT_TRUE(same(expected, got));
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GE(blocked_routers, 4) << "topk, moge, group_limited and hash decide token by token";
}

TEST(BlockedStep, SeveralRoutersOnOneBlockedBatchEachGetTheirOwnResult) {
  // The simulator routes every setup that shares a workload on the same block while it is in cache.
  const Registries& reg = builtin_registries();
  const auto makers = spec_makers();
  const Shape sh{64, 8, 8, 4};
  const auto workload = workload_detail::make_synthetic_workload(synthetic(64, 0.0));
  ThreadPool pool(2);
  Scores scores;
  workload->generate(0, 0, 3000, scores, pool);
  std::vector<std::unique_ptr<Router>> routers;
  for (const char* name : {"topk", "moge", "group_limited"})
    routers.push_back(reg.routers.get(name).factory.make(makers.at(name)(sh, 1)));
  std::vector<Assignments> got(routers.size());
  std::vector<BlockRoute> routes;
  for (size_t i = 0; i < routers.size(); ++i) routes.push_back({routers[i]->tokenwise(), {}, &got[i]});
  generate_and_route(*workload->rows(0, 0), 3000, 64, routes, pool);
  for (size_t i = 0; i < routers.size(); ++i) {
    Assignments expected;
    routers[i]->route(scores, {}, expected, pool);
    EXPECT_TRUE(same(expected, got[i])) << "router " << i;
  }
  EXPECT_FALSE(same(got[0], got[1])) << "topk and moge choose differently on a zipf batch";
}

}  // namespace
}  // namespace moesim
