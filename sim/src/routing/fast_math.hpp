// routing/fast_math.hpp: the scalar exp the routers are defined with (private to src/routing and tests).
//
// exp_f32 is a Cephes-style expf: x = n ln2 + r with n = nearest integer to x / ln2 (ties to even), ln2
// split in two so that r is exact to ~2^-32, exp(r) by a degree-7 polynomial in Horner form with FMAs,
// then y * 2^n (one correctly rounded scaling, also for subnormal results). Max error against std::exp is
// bounded in tests/unit/test_routers.cpp (<= 2 ulp on [-88, 88]).
//
// Why not std::exp: the vectorised kernels (kernels_avx512.cpp) evaluate exactly the same sequence of
// IEEE operations lane by lane (fma where this code calls std::fma, nothing else fused: the kernel files
// compile with fp-contract=off), so every path gives the same bits. The test reference
// (tests/support/reference_routing.hpp) calls this function too, so expectations stay exact.
#pragma once

#include <cmath>

namespace moesim::routing {

namespace exp_const {
inline constexpr float kMin = -104.0f;  // exp(-104) < 2^-150: rounds to 0
inline constexpr float kMax = 89.0f;    // exp(89) > FLT_MAX: becomes +inf
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;     // 355/512: n * kLn2Hi is exact for |n| < 2^15
inline constexpr float kLn2Lo = -2.12194440e-4f;  // ln 2 - kLn2Hi
// exp(r) ~ 1 + r + r^2 (P0 r^5 + P1 r^4 + ... + P5), |r| <= ln2 / 2 (Cephes expf.c).
inline constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f;
inline constexpr float kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
}  // namespace exp_const

// exp(x) in fp32 for NaN-free x (-inf gives 0, +inf gives +inf).
inline float exp_f32(float x) {
  using namespace exp_const;
  x = x < kMin ? kMin : x;
  x = x > kMax ? kMax : x;
  const float n = std::nearbyint(x * kLog2e);
  float r = std::fma(n, -kLn2Hi, x);
  r = std::fma(n, -kLn2Lo, r);
  float p = kP0;
  p = std::fma(p, r, kP1);
  p = std::fma(p, r, kP2);
  p = std::fma(p, r, kP3);
  p = std::fma(p, r, kP4);
  p = std::fma(p, r, kP5);
  const float r2 = r * r;
  const float y = std::fma(p, r2, r) + 1.0f;
  return std::ldexp(y, static_cast<int>(n));
}

// sigmoid(x) = 1 / (1 + exp(-x)) in fp32.
inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

// Lanes of the softmax denominator: sum_e exp(x[e] - m) is accumulated in fp64 in kSumLanes partial
// sums (lane j: the experts e with e % kSumLanes == j, in increasing e), which are then added pairwise,
// lane j + lane j + h for h = 8, 4, 2, 1. This fixed order is what one AVX-512 register of 16 lanes does.
inline constexpr int kSumLanes = 16;

}  // namespace moesim::routing
