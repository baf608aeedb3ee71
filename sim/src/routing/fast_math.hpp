// routing/fast_math.hpp: the scalar exp and softmax the routers are defined with (private to src/routing
// and tests).
//
// exp_f32 is table-driven: x = (k + j / 32) ln2 + r with k, j integers (0 <= j < 32, k + j / 32 the
// nearest multiple of 1/32 to x / ln2, from one fma against 1.5 * 2^18), r = x - (k + j / 32) ln2 in one
// fma with ln2 rounded to fp32 (|r| <= ln2 / 64), exp(r) - 1 by r (c1 + c2 r) (the minimax pair for the
// relative error on |r| <= 0.01084: 5.3e-8, 0.9 of 2^-24), then 2^(j / 32) (1 + p) in one fma with the
// table entry, and 2^k added to the exponent bits. Against the correctly rounded exp (std::exp in fp64,
// rounded once): at most 2 ulp on [-16, 16] (97.5% of an even sweep within 1 ulp) and at most 5 ulp on
// [-87, 88.7], where the fp32 ln2 (1.9e-9 off) puts up to |k| 1.9e-9 of relative error into r: over 2
// ulp only where |x| > 16, i.e. for softmax terms under e^-16 = 1.1e-7 of the row maximum's and sigmoids
// within 1.1e-7 of 0 or 1 (tests/unit/test_fast_math.cpp samples both ranges densely). exp(0) is exactly
// 1. Below -87 the result is y 2^k rounded once (std::ldexp; within 4 subnormal steps): subnormal, and 0
// below -103.97, where it is under half of 2^-149; x < -104 (and -inf) is taken as -104, whose exp rounds
// to 0. So no compare is needed to zero the small terms: the AVX-512 kernels clamp with one max, on the
// adder pipes, where a compare into a mask register would take an FMA-pipe slot on Zen 4
// (bench/README.md, stop 16). Above 88.7: +inf (exp(88.7) is within 2.3% of FLT_MAX).
//
// Why these few operations: on Zen 4 the exps of the softmax sum and of the sigmoids keep the FMA pipes
// busiest, and this form has 5 fmas and multiplies a lane where the one before it (16 entries, ln2 in two
// parts, a cubic; at most 1 ulp everywhere) had 7: top-8 of 256 1.02-1.10x, group-limited routing
// 1.02-1.08x, MoGE 256 1.11x as fast (paired medians of bench/ab runs, bench/README.md, stop 18). Two
// ulp near the maximum is far below what changes a routing decision or a load figure.
//
// Why not std::exp: the vectorised kernels (kernels_avx512.cpp) evaluate exactly the same sequence of
// IEEE operations lane by lane (fma where this code calls std::fma, nothing else fused: the kernel files
// compile with fp-contract=off), so every path gives the same bits. The test reference
// (tests/support/reference_routing.hpp) calls this function too, so expectations stay exact.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace moesim::routing {

namespace exp_const {
inline constexpr float kUnder = -87.0f;  // x >= kUnder: the result is normal (exp(-87) = 1.6e-38)
inline constexpr float kFloor = -104.0f;  // x < kFloor (or -inf) is taken as kFloor: exp(-104) = 6.8e-46 rounds to 0
inline constexpr float kOver = 88.7f;    // x > kOver: +inf (the result would pass FLT_MAX near 88.72)
inline constexpr float kMagic = 393216.0f;  // 1.5 * 2^18: x / ln2 + kMagic holds round(32 x / ln2) / 32, its low mantissa bits 32 k + j
inline constexpr float kOneOverLn2 = std::numbers::log2e_v<float>;  // 1 / ln 2 rounded to fp32 (1.44269502)
inline constexpr float kLn2 = std::numbers::ln2_v<float>;  // ln 2 rounded to fp32 (0.693147182, 1.9e-9 above it)
// exp(r) - 1 ~ r (kC1 + kC2 r): the minimax pair for the relative error on |r| <= 0.01084 (ln 2 / 64 and
// the rounding of 32 x / ln 2), found numerically (Nelder-Mead on 4001 points), then rounded to fp32.
inline constexpr float kC1 = 1.00001466f, kC2 = 0.49999997f;
inline constexpr uint32_t kExponentMask = 0xFF800000u;  // sign and exponent bits
inline constexpr int kTableBits = 5;                     // 2^5 = 32 entries, the low bits of 32 k + j
inline constexpr uint32_t kTableMask = (1u << kTableBits) - 1u;
inline constexpr int kExponentShift = 23 - kTableBits;   // (zb << 18) moves 32 k + j's bits of k to bit 23
// 2^(j / 32), j = 0 .. 31, correctly rounded to fp32 (from 50-digit decimals).
alignas(64) inline constexpr float kExp2Table[1 << kTableBits] = {
    1.0f,        1.0218972f,  1.04427373f, 1.06714046f, 1.09050775f, 1.1143868f,  1.13878858f, 1.1637249f,
    1.18920708f, 1.21524739f, 1.24185777f, 1.26905096f, 1.29683959f, 1.32523668f, 1.35425556f, 1.38390994f,
    1.41421354f, 1.44518077f, 1.47682619f, 1.50916445f, 1.54221082f, 1.5759809f,  1.61049032f, 1.64575553f,
    1.68179286f, 1.71861935f, 1.75625217f, 1.79470909f, 1.8340081f,  1.87416768f, 1.91520655f, 1.95714414f};
}  // namespace exp_const

// exp(x) in fp32 for NaN-free x (see above; -inf gives 0, +inf gives +inf).
inline float exp_f32(float x) {
  using namespace exp_const;
  if (x > kOver) return std::numeric_limits<float>::infinity();
  const float xc = x >= kFloor ? x : kFloor;
  const float z = std::fma(xc, kOneOverLn2, kMagic);  // bits: kMagic's + (32 k + j)
  const float n = z - kMagic;                         // k + j / 32, exactly
  const float r = std::fma(n, -kLn2, xc);
  const float p = std::fma(kC2, r, kC1) * r;
  const uint32_t zb = std::bit_cast<uint32_t>(z);
  const float t = kExp2Table[zb & kTableMask];
  const float y = std::fma(p, t, t);  // 2^(j/32) exp(r), in [0.98, 2)
  if (!(xc >= kUnder)) return std::ldexp(y, static_cast<int>(std::floor(n)));  // subnormal or 0, rounded once
  // + k in the exponent field: (zb << 18) keeps the bits of 32 k + j above bit 18, i.e. k << 23.
  return std::bit_cast<float>(std::bit_cast<uint32_t>(y) + ((zb << kExponentShift) & kExponentMask));
}

// sigmoid(x) = 1 / (1 + exp(-x)) in fp32.
inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

// The softmax term of logit x in a row of maximum m: exp_f32(x - m), and 1 where x == m. For a finite m
// the two agree (exp_f32(0) = 1); the rule gives the limit when m is infinite: with +inf logits the
// +inf experts share the mass equally and every other one gets 0; a row of only -inf is uniform.
inline float softmax_term(float x, float m) { return x == m ? 1.0f : exp_f32(x - m); }

// The softmax denominator sum_e softmax_term(x[e], m), in this fixed order (which is what AVX-512 does
// with one register of 16 lanes): experts are cut into blocks of 256; in block b, lane j (0..15) adds
// its 16 terms t_v, e = 256 b + 16 v + j (v = 0..15, 0 where e >= n), pairwise in fp32 (t_v += t_{v+w}
// for w = 1, 2, 4, 8 and v a multiple of 2w: ((t0 + t1) + (t2 + t3)) + ... in a tree of depth 4); the
// block's lane sums are added to 16 fp64 lane sums in increasing b; then lane j += lane j + h for
// h = 8, 4, 2, 1. A weight is fp32(fp64(term) * (1 / sum)), the reciprocal in fp64. For the 256 experts
// of one row at most that is 15 fp32 additions per lane and one fp64 fold; each lane's fp32 sum is
// within 4 * 2^-24 of its exact value, relative (depth 4, terms >= 0).
inline constexpr int kSumLanes = 16;
inline constexpr int kSumBlock = 256;
inline constexpr int kSumTerms = kSumBlock / kSumLanes;  // terms per lane and block

// The fp32 pairwise sum of t[0, kSumTerms) in that order (t is overwritten).
inline float pairwise_sum(float* t) {
  for (int w = 1; w < kSumTerms; w *= 2)
    for (int v = 0; v + w < kSumTerms; v += 2 * w) t[v] += t[v + w];
  return t[0];
}

}  // namespace moesim::routing
