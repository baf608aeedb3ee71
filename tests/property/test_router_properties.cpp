// Property tests over EVERY router that register_builtin_routers registers, on several seeds, shapes,
// input kinds (gaussian, quantised to few values so that ties abound, extreme-but-finite, with +inf and
// -inf logits) and biases.
// A router registered later is picked up automatically; it must get an entry in spec_makers().
// Shapes: scores [tokens, experts], assignments [tokens, slots].
#include "moesim/registries.hpp"
#include "moesim/rng.hpp"
#include "support/reference_routing.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace moesim {
namespace {

struct Shape {
  int64_t tokens;
  int experts, k, groups, topk_group;
};

// 2100 tokens: three 1024-token chunks, so 2 threads really split the work. k = 20 > 16 exercises the
// collect-and-sort selection path. A single token with k = E is the smallest legal case; an empty batch must work too.
// 128 experts in 8 groups (16 each) and 256 in 8 (32 each) take the fused group kernels; 160 experts end in
// half a block of the softmax sum; token counts not multiples of 4 exercise the single-row tails. Groups of
// 128 and of 144 experts (one group) take MoGE's wide-group kernel beyond four registers per group.
std::vector<Shape> shapes() {
  return {{2100, 64, 8, 8, 4}, {37, 16, 4, 4, 2}, {1, 2, 2, 1, 1}, {130, 256, 8, 8, 4}, {50, 40, 20, 4, 2},
          {0, 8, 2, 2, 1}, {70, 128, 8, 8, 3}, {45, 160, 8, 8, 4}, {38, 256, 2, 2, 1}, {21, 144, 1, 1, 1}};
}

constexpr int kVariants = 4;  // bit 0: sigmoid scoring, bit 1: normalize; variant 3 also scales by 2.5

RouterSpec base_spec(const std::string& name, const Shape& sh, int variant) {
  RouterSpec s;
  s.name = name;
  s.num_experts = sh.experts;
  s.k = sh.k;
  s.groups = sh.groups;
  s.scoring = (variant & 1) ? ScoringFunc::sigmoid : ScoringFunc::softmax;
  s.normalize = (variant & 2) != 0;
  s.scaling = variant == 3 ? 2.5 : 1.0;
  return s;
}

// A valid spec for each registered router, per shape and variant.
using SpecMaker = std::function<RouterSpec(const Shape&, int variant)>;
std::map<std::string, SpecMaker> spec_makers() {
  return {
      {"topk", [](const Shape& sh, int v) { return base_spec("topk", sh, v); }},
      {"moge", [](const Shape& sh, int v) { return base_spec("moge", sh, v); }},
      {"hash", [](const Shape& sh, int v) { return base_spec("hash", sh, v); }},
      {"group_limited",
       [](const Shape& sh, int v) {
         RouterSpec s = base_spec("group_limited", sh, v);
         s.topk_group = v == 2 ? 0 : sh.topk_group;  // 0 = all groups
         // top2_sum with softmax and sigmoid (variants 2, 1), max with both (0, 3)
         s.group_score = (v == 1 || v == 2) ? GroupScore::top2_sum : GroupScore::max;
         return s;
       }},
      {"expert_choice",
       [](const Shape& sh, int v) {
         RouterSpec s = base_spec("expert_choice", sh, v);
         s.capacity_factor = std::vector<double>{0.0, 0.5, 1.25, 2.0}[v];
         return s;
       }},
  };
}

enum class Input { gaussian, quantised, extreme, infinite };
enum class Bias { none, gaussian, quantised };

// scores: [tokens, experts], a pure function of (seed, kind, token, expert).
Scores make_scores(const Shape& sh, uint64_t seed, Input kind) {
  static constexpr float kExtreme[] = {-3e38f, -1e30f, -100.f, -1.f, 0.f, 1e-30f, 1.f, 100.f, 1e30f, 3e38f};
  const Philox rng(seed, 1 + static_cast<uint64_t>(kind));
  Scores x(sh.tokens, sh.experts);
  for (int64_t t = 0; t < sh.tokens; ++t) {
    for (int e = 0; e < sh.experts; ++e) {
      const auto w = rng.words(static_cast<uint64_t>(t * sh.experts + e));
      const double z = standard_normal(Philox::to_unit_open_d(w[0]), Philox::to_unit_open_d(w[1]));
      if (kind == Input::gaussian) x(t, e) = static_cast<float>(2 * z);
      if (kind == Input::quantised) x(t, e) = static_cast<float>(0.5 * std::clamp(std::round(z), -1.0, 1.0));
      if (kind == Input::extreme) x(t, e) = kExtreme[w[2] % 10];
      if (kind == Input::infinite) {  // +inf and -inf among gaussians; every 17th token only -inf
        const float inf = std::numeric_limits<float>::infinity();
        x(t, e) = t % 17 == 16 ? -inf : w[2] % 32 == 0 ? inf : w[2] % 32 == 1 ? -inf : static_cast<float>(z);
      }
    }
    if (kind == Input::quantised && t % 3 == 2) x.row(t) = x.row(t - 1);  // repeated tokens
  }
  return x;
}

// bias: [experts] or empty.
std::vector<float> make_bias(int experts, uint64_t seed, Bias kind) {
  if (kind == Bias::none) return {};
  const Philox rng(seed, 100);
  std::vector<float> b(experts);
  for (int e = 0; e < experts; ++e) {
    const auto w = rng.words(static_cast<uint64_t>(e));
    b[e] = kind == Bias::quantised ? 0.125f * (w[0] % 2)
                                   : static_cast<float>(0.05 * standard_normal(Philox::to_unit_open_d(w[0]),
                                                                               Philox::to_unit_open_d(w[1])));
  }
  return b;
}

struct Case {
  RouterSpec spec;
  Scores scores;
  std::vector<float> bias;
  std::string label;
};

// Calls fn on every (registered router, shape, variant, seed, input, bias); each input is generated once
// and shared by all routers. Fails for a registered router without a spec maker.
void for_each_case(const Registries& reg, const std::function<void(const Case&, const RouterEntry&)>& fn) {
  const auto makers = spec_makers();
  for (const auto* entry : reg.routers.entries())
    if (makers.count(entry->name) == 0)
      ADD_FAILURE() << "router '" << entry->name << "' is registered but has no spec maker in this test";
  for (const Shape& sh : shapes())
    for (uint64_t seed : {1u, 2u})
      for (Input in : {Input::gaussian, Input::quantised, Input::extreme, Input::infinite}) {
        Case c;
        c.scores = make_scores(sh, seed, in);
        for (Bias bk : {Bias::none, Bias::gaussian, Bias::quantised}) {
          c.bias = make_bias(sh.experts, seed + 7, bk);
          for (const auto* entry : reg.routers.entries()) {
            if (makers.count(entry->name) == 0) continue;
            for (int v = 0; v < kVariants; ++v) {
              std::ostringstream label;
              label << entry->name << " tokens=" << sh.tokens << " experts=" << sh.experts << " k=" << sh.k
                    << " variant=" << v << " seed=" << seed << " input=" << int(in) << " bias=" << int(bk);
              c.spec = makers.at(entry->name)(sh, v);
              c.label = label.str();
              fn(c, entry->factory);
            }
          }
        }
      }
}

Assignments route(const RouterEntry& entry, const Case& c, ThreadPool& pool) {
  Assignments out;
  entry.make(c.spec)->route(c.scores, c.bias, out, pool);
  return out;
}

int kept_count(const Assignments& a) {
  int n = 0;
  for (int64_t t = 0; t < a.tokens; ++t)
    for (int s = 0; s < a.slots; ++s) n += a.is_kept(t, s);
  return n;
}

// Every token: filled slots first, distinct experts in range; weights finite and >= 0; every requested
// assignment kept or counted as dropped. Token-wise routers fill exactly k slots per token.
void check_invariants(const Case& c, const Router& router, const Assignments& a) {
  const int64_t T = c.scores.rows();
  ASSERT_EQ(a.tokens, T);
  ASSERT_EQ(a.expert.size(), static_cast<size_t>(T * a.slots));
  ASSERT_EQ(a.weight.size(), a.expert.size());
  EXPECT_EQ(a.requested, T * c.spec.k);
  const bool tokenwise = dynamic_cast<const TokenwiseRouter*>(&router) != nullptr;
  if (tokenwise) {
    EXPECT_EQ(a.slots, c.spec.k);
  }
  for (int64_t t = 0; t < T; ++t) {
    std::set<int> seen;
    for (int s = 0; s < a.slots; ++s) {
      const int e = a.expert_at(t, s);
      const float w = a.weight_at(t, s);
      ASSERT_TRUE(std::isfinite(w) && w >= 0) << "token " << t << " slot " << s << " weight " << w;
      if (e == kNoExpert) {
        ASSERT_FALSE(tokenwise) << "token " << t << " slot " << s << " empty";
        ASSERT_EQ(w, 0.0f);
        continue;
      }
      ASSERT_TRUE(s == 0 || a.expert_at(t, s - 1) != kNoExpert) << "token " << t << ": empty slot before a full one";
      ASSERT_TRUE(e >= 0 && e < c.spec.num_experts) << "token " << t << " expert " << e;
      ASSERT_TRUE(seen.insert(e).second) << "token " << t << " has expert " << e << " twice";
    }
  }
  EXPECT_EQ(a.dropped_count, std::max<int64_t>(0, a.requested - kept_count(a)));
}

void expect_identical(const Assignments& a, const Assignments& b) {
  EXPECT_EQ(a.slots, b.slots);
  EXPECT_EQ(a.expert, b.expert);
  EXPECT_EQ(a.weight, b.weight);
  EXPECT_EQ(a.dropped, b.dropped);
  EXPECT_EQ(a.requested, b.requested);
  EXPECT_EQ(a.dropped_count, b.dropped_count);
}

// Same experts in the same slots; weights equal to fp32 rounding; same drops.
void expect_matches_reference(const Assignments& fast, const Assignments& ref) {
  ASSERT_EQ(fast.slots, ref.slots);
  ASSERT_EQ(fast.tokens, ref.tokens);
  EXPECT_EQ(fast.requested, ref.requested);
  EXPECT_EQ(fast.dropped_count, ref.dropped_count);
  for (int64_t t = 0; t < fast.tokens; ++t)
    for (int s = 0; s < fast.slots; ++s) {
      ASSERT_EQ(fast.expert_at(t, s), ref.expert_at(t, s)) << "token " << t << " slot " << s;
      ASSERT_NEAR(fast.weight_at(t, s), ref.weight_at(t, s), 1e-6 + 1e-5 * std::abs(ref.weight_at(t, s)))
          << "token " << t << " slot " << s;
      ASSERT_EQ(fast.is_dropped(t, s), ref.is_dropped(t, s)) << "token " << t << " slot " << s;
    }
}

TEST(RouterProperties, EveryRouterIsCovered) {
  Registries reg;
  register_builtin_routers(reg.routers);
  ASSERT_GE(reg.routers.entries().size(), 5u);
  for (const auto* e : reg.routers.entries()) {
    EXPECT_EQ(spec_makers().count(e->name), 1u) << "no spec maker for router '" << e->name << "'";
    EXPECT_FALSE(e->description.empty()) << e->name;
  }
}

TEST(RouterProperties, InvariantsThreadsAndReference) {
  Registries reg;
  register_builtin_routers(reg.routers);
  ThreadPool one(1), two(2);
  for_each_case(reg, [&](const Case& c, const RouterEntry& entry) {
    SCOPED_TRACE(c.label);
    ASSERT_NO_THROW(entry.validate(c.spec, "property", "router"));
    const Assignments a = route(entry, c, one);
    check_invariants(c, *entry.make(c.spec), a);
    expect_identical(a, route(entry, c, two));
    const auto ref = ref::route(c.spec, c.scores, c.bias);
    ASSERT_TRUE(ref.has_value()) << "no reference implementation for router '" << c.spec.name << "'";
    expect_matches_reference(a, *ref);
  });
}

// After apply_capacity: no expert keeps more than C = ceil(f * tokens * k / E) assignments, dropped slots
// are flagged with weight 0 and counted, nothing kept before is lost from the accounting, and the result
// equals the reference's.
TEST(RouterProperties, CapacityNeverExceeded) {
  Registries reg;
  register_builtin_routers(reg.routers);
  ThreadPool one(1);
  for_each_case(reg, [&](const Case& c, const RouterEntry& entry) {
    SCOPED_TRACE(c.label);
    const Assignments routed = route(entry, c, one);
    for (double f : {0.5, 1.0, 1.25}) {
      SCOPED_TRACE("capacity factor " + std::to_string(f));
      Assignments a = routed, r = routed;
      apply_capacity(CapacitySpec{f}, c.spec.num_experts, c.spec.k, a);
      ref::apply_capacity(f, c.spec.num_experts, c.spec.k, r);
      expect_matches_reference(a, r);
      const auto cap = static_cast<int64_t>(std::ceil(f * double(a.tokens * c.spec.k) / c.spec.num_experts - 1e-9));
      std::vector<int64_t> load(c.spec.num_experts, 0);
      int64_t flagged = 0;
      for (int64_t t = 0; t < a.tokens; ++t)
        for (int s = 0; s < a.slots; ++s) {
          if (a.is_kept(t, s)) ++load[a.expert_at(t, s)];
          if (a.is_dropped(t, s)) {
            ++flagged;
            EXPECT_EQ(a.weight_at(t, s), 0.0f);
          }
        }
      for (int e = 0; e < c.spec.num_experts; ++e) ASSERT_LE(load[e], cap) << "expert " << e;
      EXPECT_EQ(a.dropped_count - routed.dropped_count, flagged);
      EXPECT_EQ(kept_count(a) + flagged, kept_count(routed));
    }
  });
}

}  // namespace
}  // namespace moesim
