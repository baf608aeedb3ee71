// The routers' table-driven exp (routing/fast_math.hpp) against the correctly rounded exp.
#include "routing/fast_math.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace moesim {
namespace {

// Distance in units in the last place between two finite non-negative floats: the difference of their bit
// patterns (the IEEE encoding is monotone for x >= 0).
int64_t ulp_distance(float a, float b) {
  return std::abs(static_cast<int64_t>(std::bit_cast<uint32_t>(a)) - static_cast<int64_t>(std::bit_cast<uint32_t>(b)));
}

// exp_f32 against the correctly rounded exp (std::exp in fp64, rounded once to fp32) on a dense sweep of
// [-87, 88.7], its normal range (1.76 million points, step 1e-4, plus both ends). The bounds, derived in
// fast_math.hpp: the minimax r (c1 + c2 r) is 0.9 x 2^-24 off relative, the table entry and the last fma
// round by half an ulp each, so at most 2 ulp; the fp32 ln2 adds |k| 1.9e-9 relative (k = x / ln2), under
// 0.5 ulp for |x| <= 16 (|k| <= 23: 4.4e-8) and up to 2.4e-7 (4 ulp where the result's mantissa is near
// 2) at |x| = 88. Exact at 0; +inf above 88.7. (Every float of [-104, 88.7] was checked the same way
// once, 2.2e9 of them: at most 2 ulp on [-16, 16], 0.07% of those floats 2 ulp off, and 5 on [-87, 88.7];
// too slow for a unit test.)
TEST(FastMath, ExpWithinAFewUlpOfCorrectlyRounded) {
  int64_t worst = 0, worst_near = 0;
  int64_t points_near = 0, over_one_ulp_near = 0;
  auto check = [&](float x) {
    const int64_t d = ulp_distance(routing::exp_f32(x), static_cast<float>(std::exp(static_cast<double>(x))));
    worst = std::max(worst, d);
    if (std::fabs(x) <= 16.0f) {
      worst_near = std::max(worst_near, d);
      ++points_near;
      over_one_ulp_near += d > 1;
    }
  };
  for (int i = -870000; i <= 887000; ++i) check(static_cast<float>(i) * 1e-4f);
  check(-87.0f);
  check(88.7f);
  EXPECT_LE(worst_near, 2);
  EXPECT_LE(worst, 5);
  // Most of [-16, 16] is within 1 ulp: 2.5% of this even sweep is 2 ulp off (measured 0.0246).
  EXPECT_LT(static_cast<double>(over_one_ulp_near) / static_cast<double>(points_near), 0.03);
  EXPECT_EQ(routing::exp_f32(0.0f), 1.0f);
  EXPECT_TRUE(std::isfinite(routing::exp_f32(88.7f)));
  EXPECT_EQ(routing::exp_f32(std::nextafter(88.7f, 100.0f)), std::numeric_limits<float>::infinity());
  EXPECT_EQ(routing::exp_f32(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
}

// Below -87 the result is 2^(j/32) exp(r) scaled by 2^k and rounded once: subnormal from exp(-87.34) =
// 2^-126 (FLT_MIN) down, 0 below -103.97 (exp(-103.97) = 2^-150, half the smallest subnormal 2^-149), and
// 0 for everything below -104, -inf included. Within 4 ulp of the correctly rounded exp there, the ulp
// being the subnormal step 2^-149 below FLT_MIN (the bit patterns of non-negative subnormals are
// consecutive integers too): near FLT_MIN y's relative error, up to 2.5e-7 from the fp32 ln2 at |k| = 126,
// is 2^23 x 2.5e-7 = 2.1 steps, plus the rounding; every float of [-104, -87) was checked once: 4 at most.
TEST(FastMath, ExpUnderflowsGraduallyToZero) {
  int64_t worst = 0;
  for (int i = -1050000; i < -870000; ++i) {
    const float x = static_cast<float>(i) * 1e-4f;
    worst = std::max(worst, ulp_distance(routing::exp_f32(x), static_cast<float>(std::exp(static_cast<double>(x)))));
  }
  EXPECT_LE(worst, 4);
  EXPECT_GT(routing::exp_f32(std::nextafter(-87.0f, -100.0f)), 0.0f);  // 1.65e-38, no longer cut to 0
  EXPECT_EQ(std::fpclassify(routing::exp_f32(-95.0f)), FP_SUBNORMAL);  // exp(-95) = 5.5e-42
  EXPECT_EQ(routing::exp_f32(-103.5f), std::ldexp(1.0f, -149));         // 1.1e-45: nearest is 2^-149 = 1.4e-45
  EXPECT_EQ(routing::exp_f32(-103.99f), 0.0f);                         // 6.9e-46 < 2^-150
  EXPECT_EQ(routing::exp_f32(-104.0f), 0.0f);
  EXPECT_EQ(routing::exp_f32(-1e30f), 0.0f);
  EXPECT_EQ(routing::exp_f32(-std::numeric_limits<float>::infinity()), 0.0f);
}

}  // namespace
}  // namespace moesim
