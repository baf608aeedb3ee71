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

// exp_f32 is within 1 ulp of the correctly rounded exp (std::exp in fp64, rounded once to fp32) on a dense
// sweep of [-87, 88.7], its normal range (1.76 million points, step 1e-4, plus both ends); exact at 0;
// +inf above 88.7. (Every float of [-87, 88.7] was checked the same way once, 2.2e9 of them: also at most
// 1 ulp; too slow for a unit test.)
TEST(FastMath, ExpWithinOneUlpOfCorrectlyRounded) {
  int64_t worst = 0;
  auto check = [&](float x) {
    worst = std::max(worst, ulp_distance(routing::exp_f32(x), static_cast<float>(std::exp(static_cast<double>(x)))));
  };
  for (int i = -870000; i <= 887000; ++i) check(static_cast<float>(i) * 1e-4f);
  check(-87.0f);
  check(88.7f);
  EXPECT_LE(worst, 1);
  EXPECT_EQ(routing::exp_f32(0.0f), 1.0f);
  EXPECT_TRUE(std::isfinite(routing::exp_f32(88.7f)));
  EXPECT_EQ(routing::exp_f32(std::nextafter(88.7f, 100.0f)), std::numeric_limits<float>::infinity());
  EXPECT_EQ(routing::exp_f32(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
}

// Below -87 the result is 2^(j/16) exp(r) scaled by 2^k and rounded once: subnormal from exp(-87.34) =
// 2^-126 (FLT_MIN) down, 0 below -103.97 (exp(-103.97) = 2^-150, half the smallest subnormal 2^-149), and
// 0 for everything below -104, -inf included. Within 1 ulp of the correctly rounded exp there too, the ulp
// being the subnormal step 2^-149 below FLT_MIN (the bit patterns of non-negative subnormals are
// consecutive integers too).
TEST(FastMath, ExpUnderflowsGraduallyToZero) {
  int64_t worst = 0;
  for (int i = -1050000; i < -870000; ++i) {
    const float x = static_cast<float>(i) * 1e-4f;
    worst = std::max(worst, ulp_distance(routing::exp_f32(x), static_cast<float>(std::exp(static_cast<double>(x)))));
  }
  EXPECT_LE(worst, 1);
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
