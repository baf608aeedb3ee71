// Bit-identity of the vectorised routing kernels: every router on the portable (scalar) path against the
// path this CPU dispatches to, on random logits with the awkward values (ties, extremes, infinities).
#include "moesim/rng.hpp"
#include "routing/simd.hpp"
#include "support/router_cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace moesim {
namespace {

using test::route;
using test::spec_of;

// Random logits: N(0, 1), some rows scaled by 1e30 (extreme but finite) or by 1e-30 (tiny), some
// quantised to {-1, 0, 1} (ties everywhere), some rows of magnitudes 86 to ~90, all negative or all
// positive (around the ends of exp_f32's range, -87 and 88.7, where a sigmoid's exp(-x) underflows to
// 0 or overflows to +inf), some rows scaled by 40 (softmax terms x - max and sigmoid terms -x through
// exp_f32's subnormal range, -87 to -104, and below), a few -inf (masked experts), some rows with one to three +inf, one row of
// only -inf, and rows whose values above 2 become 3 plus 0 to 15 ulps (the best few differ only in the
// low 4 mantissa bits, which the AVX-512 candidate sort leaves to its exact fallback). scores:
// [tokens, experts].
Scores random_scores(int64_t tokens, int experts, uint64_t seed) {
  const Philox rng(seed, 99);
  const float inf = std::numeric_limits<float>::infinity();
  Scores m(tokens, experts);
  for (int64_t t = 0; t < tokens; ++t)
    for (int e = 0; e < experts; ++e) {
      const auto w = rng.words(static_cast<uint64_t>(t * experts + e));
      float v = static_cast<float>(standard_normal(Philox::to_unit_open_d(w[0]), Philox::to_unit_open_d(w[1])));
      if (t % 7 == 3) v *= 1e30f;
      if (t % 13 == 6) v *= 1e-30f;
      if (t % 5 == 1) v = std::round(v);
      if (t % 23 == 12) v *= 40.0f;
      if (t % 17 == 8) v = ((t / 17) % 2 == 0 ? -1.0f : 1.0f) * (86.0f + std::abs(v));
      if (w[2] % 61 == 0 && e > 0) v = -inf;
      if (t % 11 == 5 && w[3] % 97 < 3) v = inf;
      if (t % 19 == 10 && v > 2.0f) v = std::bit_cast<float>(0x40400000u + static_cast<uint32_t>(w[3] % 16));
      if (t == 9) v = -inf;
      m(t, e) = v;
    }
  return m;
}

Assignments route_at(routing::SimdLevel level, const RouterSpec& spec, const Scores& x, const std::vector<float>& bias) {
  routing::set_simd_level_for_testing(level);
  Assignments a = route(spec, x, bias);
  routing::set_simd_level_for_testing(routing::detected_simd_level());
  return a;
}

// Every router gives the same experts and the same weight BITS on the portable path as on the path this
// CPU dispatches to (AVX-512 where available; on other CPUs both are the portable path).
TEST(Simd, ScalarAndDispatchedPathsAreBitIdentical) {
  const Scores x256 = random_scores(301, 256, 1), x64 = random_scores(300, 64, 2), x40 = random_scores(100, 40, 3);
  std::vector<RouterSpec> specs;
  for (const char* name : {"topk", "moge", "group_limited", "expert_choice", "hash"})
    // Variants 0-3: bit 0 sigmoid, bit 1 normalize and scale 2.5; variant 4: DeepSeek-V3's routing (sigmoid,
    // top-2 sum, normalize, 2.5), for which the group-limited kernel has a compile-time shape.
    for (int variant = 0; variant < 5; ++variant) {
      const bool v3 = variant == 4;
      RouterSpec s = spec_of(name, 256, 8);
      s.groups = std::string(name) == "moge" || std::string(name) == "group_limited" ? 8 : 1;
      s.topk_group = std::string(name) == "group_limited" ? 4 : 0;
      s.scoring = (variant & 1) || v3 ? ScoringFunc::sigmoid : ScoringFunc::softmax;
      s.normalize = (variant & 2) != 0 || v3;
      s.scaling = (variant & 2) || v3 ? 2.5 : 1.0;
      s.group_score = (variant == 1 || variant == 2 || v3) ? GroupScore::top2_sum : GroupScore::max;
      specs.push_back(s);
    }
  for (RouterSpec s : specs)
    for (int shape = 0; shape < 4; ++shape) {  // shape 3: 256 experts in 16 groups of 16
      const Scores& x = shape == 0 || shape == 3 ? x256 : shape == 1 ? x64 : x40;
      s.num_experts = static_cast<int>(x.cols());
      s.groups = s.groups == 1 ? 1 : (shape == 2 ? 4 : shape == 3 ? 16 : 8);  // 40 experts: 4 groups of 10 (scalar fallbacks)
      s.k = shape == 2 ? 4 : (shape == 3 && s.name == "moge") ? 16 : 8;
      s.topk_group = s.topk_group == 0 ? 0 : s.groups / 2;
      for (bool with_bias : {false, true}) {
        std::vector<float> bias;
        for (int e = 0; with_bias && e < s.num_experts; ++e) bias.push_back(0.01f * static_cast<float>(e % 7) - 0.03f);
        const Assignments slow = route_at(routing::SimdLevel::scalar, s, x, bias);
        // Both ways of listing the group-limited kernel's candidates and both row prefetches of the fused
        // kernels (simd.hpp; separate instantiations of each kernel), whichever this CPU uses.
        for (routing::CandidateListing listing : {routing::CandidateListing::gather, routing::CandidateListing::compress})
          for (routing::RowPrefetch prefetch : {routing::RowPrefetch::l1_near, routing::RowPrefetch::l2_far}) {
            routing::set_candidate_listing_for_testing(listing);
            routing::set_row_prefetch_for_testing(prefetch);
            const Assignments fast = route_at(routing::detected_simd_level(), s, x, bias);
            routing::set_candidate_listing_for_testing(std::nullopt);
            routing::set_row_prefetch_for_testing(std::nullopt);
            ASSERT_EQ(fast.expert, slow.expert) << s.name << " shape " << shape << " bias " << with_bias
                                                << " listing " << static_cast<int>(listing) << " prefetch "
                                                << static_cast<int>(prefetch);
            ASSERT_EQ(fast.weight.size(), slow.weight.size());
            EXPECT_EQ(0, std::memcmp(fast.weight.data(), slow.weight.data(), fast.weight.size() * sizeof(float)))
                << s.name << " shape " << shape << " bias " << with_bias << " sigmoid "
                << (s.scoring == ScoringFunc::sigmoid) << " listing " << static_cast<int>(listing) << " prefetch "
                << static_cast<int>(prefetch);
          }
      }
    }
}

// The fused top-k + softmax kernel routes rows in blocks of 4: an odd token count also exercises the
// single-row tail, and 1e30-scaled rows the fallback for more than 16 candidates; 256, 128 and 64 experts
// with k = 8 take its compile-time shapes, the other k (and 96 experts) the shape read at run time.
TEST(Simd, FusedTopkSoftmaxOddRowCountIsBitIdentical) {
  for (int n : {256, 128, 96, 64}) {
    const Scores x = random_scores(301, n, 5);
    for (int k : {1, 8, 16}) {
      const RouterSpec s = spec_of("topk", n, k);
      const Assignments fast = route_at(routing::detected_simd_level(), s, x, {});
      const Assignments slow = route_at(routing::SimdLevel::scalar, s, x, {});
      ASSERT_EQ(fast.expert, slow.expert) << "n " << n << " k " << k;
      EXPECT_EQ(0, std::memcmp(fast.weight.data(), slow.weight.data(), fast.weight.size() * sizeof(float)))
          << "n " << n << " k " << k;
    }
  }
}

// The softmax denominator kernel alone, on lengths that end inside a 16-lane vector, a 64-expert quarter
// and a 256-expert block, and past one block (where the fp64 lane sums take more than one block):
// the same bits and the same terms on the dispatched path as on the portable one.
TEST(Simd, SoftmaxDenominatorIsBitIdenticalOnEveryBlockBoundary) {
  const Scores x = random_scores(8, 600, 6);
  const routing::Kernels& fast = routing::kernels();
  const routing::Kernels& slow = routing::scalar_kernels();
  for (int n : {1, 15, 16, 17, 63, 64, 65, 130, 200, 255, 256, 257, 300, 512, 513, 600})
    for (int64_t t = 0; t < x.rows(); ++t) {
      const float* row = x.data() + t * x.cols();  // row-major
      const float m = *std::max_element(row, row + n);
      std::vector<float> ef(static_cast<size_t>(n)), es(static_cast<size_t>(n));
      const double a = fast.exp_sum(row, n, m, ef.data()), b = slow.exp_sum(row, n, m, es.data());
      EXPECT_EQ(0, std::memcmp(&a, &b, sizeof a)) << "n " << n << " row " << t;
      EXPECT_EQ(0, std::memcmp(ef.data(), es.data(), ef.size() * sizeof(float))) << "n " << n << " row " << t;
    }
}

// The softmax terms through exp_f32's gradual underflow: x - max from 0 down to -120 in steps of 1/64 (the
// subnormal range is -87.34 to -103.97), a -inf and a +0 / -0: the same term bits on the dispatched path
// (VSCALEFPS rounding once) as on the portable one (std::ldexp), and some of them subnormal.
TEST(Simd, SoftmaxTermsUnderflowTheSameWay) {
  std::vector<float> row;
  for (int i = 0; i >= -120 * 64; --i) row.push_back(static_cast<float>(i) / 64.0f);
  row.push_back(-std::numeric_limits<float>::infinity());
  row.push_back(-0.0f);
  const int n = static_cast<int>(row.size());
  std::vector<float> ef(row.size()), es(row.size());
  const double a = routing::kernels().exp_sum(row.data(), n, 0.0f, ef.data());
  const double b = routing::scalar_kernels().exp_sum(row.data(), n, 0.0f, es.data());
  EXPECT_EQ(0, std::memcmp(&a, &b, sizeof a));
  EXPECT_EQ(0, std::memcmp(ef.data(), es.data(), ef.size() * sizeof(float)));
  const auto subnormal = std::count_if(es.begin(), es.end(), [](float e) { return std::fpclassify(e) == FP_SUBNORMAL; });
  EXPECT_EQ(subnormal, 1065);  // i / 64 in (-87.34, -103.97]: i = -5590 .. -6654
  EXPECT_EQ(es[static_cast<size_t>(n - 2)], 0.0f);  // -inf
}

}  // namespace
}  // namespace moesim
