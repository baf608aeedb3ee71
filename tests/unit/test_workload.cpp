// Unit tests of the synthetic workload: determinism, popularity shapes and the Gumbel-max law.
#include "moesim/error.hpp"
#include "moesim/parallel.hpp"
#include "moesim/registries.hpp"
#include "moesim/workload.hpp"
#include "workload/synthetic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

namespace moesim {
namespace {

WorkloadInput make_input(Popularity pop, int experts, int layers = 4, uint64_t seed = 7) {
  WorkloadInput in;
  in.spec.popularity = pop;
  in.num_experts = experts;
  in.num_layers = layers;
  in.seed = seed;
  return in;
}

Scores generate(const WorkloadInput& in, int64_t step, int layer, int64_t tokens, int threads = 1) {
  ThreadPool pool(threads);
  Scores s;
  workload_detail::make_synthetic_workload(in)->generate(step, layer, tokens, s, pool);
  return s;
}

bool same_bytes(const Scores& a, const Scores& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

// Top-1 counts: how often each expert holds the row maximum. counts: [experts].
std::vector<int64_t> argmax_counts(const Scores& s) {
  std::vector<int64_t> counts(static_cast<size_t>(s.cols()), 0);
  for (Eigen::Index t = 0; t < s.rows(); ++t) {
    Eigen::Index best;
    s.row(t).maxCoeff(&best);
    ++counts[static_cast<size_t>(best)];
  }
  return counts;
}

TEST(Workload, RegistryHasSynthetic) {
  WorkloadRegistry reg("workload");
  register_builtin_workloads(reg);
  ASSERT_TRUE(reg.contains("synthetic"));
  EXPECT_FALSE(reg.get("synthetic").description.empty());
  auto w = reg.get("synthetic").factory(make_input(Popularity::uniform, 8));
  ASSERT_NE(w, nullptr);
}

// 1000 tokens = 4 chunks of 256, so 2 threads really split the work.
TEST(Workload, IdenticalBytesForOneAndTwoThreadsAndRepeatedCalls) {
  WorkloadInput in = make_input(Popularity::lognormal, 37);  // 37: not a multiple of 4 (partial Philox block)
  in.spec.sequence_correlation = 0.3;
  in.tokens_per_sequence = 5;
  const Scores one = generate(in, 3, 1, 1000, 1);
  const Scores two = generate(in, 3, 1, 1000, 2);
  const Scores again = generate(in, 3, 1, 1000, 2);
  EXPECT_TRUE(same_bytes(one, two));
  EXPECT_TRUE(same_bytes(two, again));
  ASSERT_EQ(one.rows(), 1000);
  ASSERT_EQ(one.cols(), 37);
  EXPECT_TRUE(one.allFinite());
}

// A value depends on (seed, step, layer, token, expert) only, not on the batch size.
TEST(Workload, RowDoesNotDependOnBatchSize) {
  const WorkloadInput in = make_input(Popularity::zipf, 16);
  const Scores small = generate(in, 0, 0, 300);
  const Scores big = generate(in, 0, 0, 1000);
  const Scores head = big.topRows(300);
  EXPECT_TRUE(same_bytes(small, head));
}

// Any change of seed, step or layer gives fresh noise: equal floats by chance are ~1e-7 likely each.
TEST(Workload, SeedStepAndLayerChangeTheNoise) {
  const WorkloadInput a = make_input(Popularity::uniform, 16, 4, 1);
  const WorkloadInput b = make_input(Popularity::uniform, 16, 4, 2);
  const Scores base = generate(a, 0, 0, 200);
  for (const Scores& other : {generate(b, 0, 0, 200), generate(a, 1, 0, 200), generate(a, 0, 1, 200)}) {
    const auto equal = ((base.array() == other.array()).cast<int>()).sum();
    EXPECT_LT(equal, 5);
  }
}

TEST(Popularity, SumsToOneForEveryShape) {
  for (Popularity pop : {Popularity::uniform, Popularity::zipf, Popularity::lognormal}) {
    WorkloadInput in = make_input(pop, 61);
    in.spec.layer_sigma = 0.5;
    for (int layer = 0; layer < 3; ++layer) {
      const std::vector<double> p = synthetic_popularity(in, layer);
      ASSERT_EQ(p.size(), 61u);
      EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12) << to_string(pop);
      for (double v : p) EXPECT_GT(v, 0.0);
    }
  }
}

TEST(Popularity, UniformIsOneOverExperts) {
  for (double v : synthetic_popularity(make_input(Popularity::uniform, 8), 2)) EXPECT_DOUBLE_EQ(v, 0.125);
}

// Ranks r get r^-s: p(rank 1) / p(rank 2) = 2^s, p(rank 1) / p(rank 3) = 3^s (s = 1.2: 2.2974, 3.7372).
TEST(Popularity, ZipfRatiosOfTopRanks) {
  WorkloadInput in = make_input(Popularity::zipf, 32);
  in.spec.zipf_exponent = 1.2;
  std::vector<double> p = synthetic_popularity(in, 0);
  std::sort(p.begin(), p.end(), std::greater<>());
  EXPECT_NEAR(p[0] / p[1], std::pow(2.0, 1.2), 1e-12);
  EXPECT_NEAR(p[0] / p[2], std::pow(3.0, 1.2), 1e-12);
  EXPECT_NEAR(p[0] / p[31], std::pow(32.0, 1.2), 1e-9);
}

// Without shuffle_layers all layers share layer 0's ranks; with it, layer 3 draws its own order
// (the chance that two random orders of 32 experts coincide is 1/32!).
TEST(Popularity, ShuffleLayersControlsWhichExpertIsHot) {
  WorkloadInput in = make_input(Popularity::zipf, 32);
  in.spec.shuffle_layers = false;
  EXPECT_EQ(synthetic_popularity(in, 0), synthetic_popularity(in, 3));
  in.spec.shuffle_layers = true;
  EXPECT_NE(synthetic_popularity(in, 0), synthetic_popularity(in, 3));
}

// log(p_e / p_f) = sigma * (z_e - z_f) with the same z: doubling sigma doubles every log ratio.
TEST(Popularity, LognormalSigmaScalesLogRatios) {
  WorkloadInput in = make_input(Popularity::lognormal, 16);
  in.spec.lognormal_sigma = 1.0;
  const std::vector<double> p1 = synthetic_popularity(in, 0);
  in.spec.lognormal_sigma = 2.0;
  const std::vector<double> p2 = synthetic_popularity(in, 0);
  for (int e = 1; e < 16; ++e) EXPECT_NEAR(std::log(p2[e] / p2[0]), 2.0 * std::log(p1[e] / p1[0]), 1e-9);
}

TEST(Popularity, LayerSigmaMakesLayersDifferEvenWithoutShuffle) {
  WorkloadInput in = make_input(Popularity::uniform, 16);
  in.spec.shuffle_layers = false;
  in.spec.layer_sigma = 0.3;
  EXPECT_NE(synthetic_popularity(in, 0), synthetic_popularity(in, 1));
}

// Gumbel-max: argmax picks expert e with probability p_e. n = 200000 tokens, count_e ~ Binomial(n, p_e),
// sigma_e = sqrt(n p_e (1 - p_e)); uniform over 8: mean 25000, sigma = sqrt(21875) = 147.9.
// 5 sigma: a false failure has probability ~ 8 * 6e-7 (and the seed is fixed).
TEST(Workload, TopOneFrequencyMatchesPopularity) {
  for (Popularity pop : {Popularity::uniform, Popularity::zipf}) {
    const WorkloadInput in = make_input(pop, 8);
    const int64_t n = 200000;
    const std::vector<int64_t> counts = argmax_counts(generate(in, 0, 2, n, 2));
    const std::vector<double> p = synthetic_popularity(in, 2);
    for (int e = 0; e < 8; ++e) {
      const double sigma = std::sqrt(n * p[e] * (1.0 - p[e]));
      EXPECT_NEAR(static_cast<double>(counts[e]), n * p[e], 5.0 * sigma) << to_string(pop) << " expert " << e;
    }
  }
}

// logits = scale * (log p + G): scale > 0 keeps each row's order, so the argmax is unchanged.
TEST(Workload, LogitScaleKeepsTheChoice) {
  WorkloadInput in = make_input(Popularity::lognormal, 8);
  const Scores s1 = generate(in, 0, 0, 500);
  in.spec.logit_scale = 3.0;
  const Scores s3 = generate(in, 0, 0, 500);
  for (Eigen::Index t = 0; t < 500; ++t) {
    Eigen::Index a, b;
    s1.row(t).maxCoeff(&a);
    s3.row(t).maxCoeff(&b);
    ASSERT_EQ(a, b) << "token " << t;
  }
}

// Standard Gumbel: mean = Euler's gamma 0.5772, variance pi^2/6 = 1.6449. Uniform over 8 experts shifts
// logits by log(1/8) = -2.0794. 40000 x 8 = 320000 values: std error of the mean sqrt(1.6449/320000)
// = 0.0023, of the variance about sqrt((mu4 - s^4)/N) = sqrt((5.4 * 1.6449^2 - 1.6449^2)/320000) = 0.0061.
TEST(Workload, GumbelMoments) {
  const Scores s = generate(make_input(Popularity::uniform, 8), 5, 0, 40000);
  const double mean = s.cast<double>().mean();
  const double var = (s.cast<double>().array() - mean).square().mean();
  EXPECT_NEAR(mean, 0.5772156649 + std::log(0.125), 5 * 0.0023);
  EXPECT_NEAR(var, 1.6449340668, 5 * 0.0061);
}

// c = 1: G = Gseq[t / tokens_per_sequence], so rows 0..3 are equal, rows 4..7 too, and the two differ.
TEST(Workload, FullSequenceCorrelationMakesSequencesIdentical) {
  WorkloadInput in = make_input(Popularity::zipf, 16);
  in.tokens_per_sequence = 4;
  in.spec.sequence_correlation = 1.0;
  const Scores s = generate(in, 0, 0, 8);
  for (int t = 1; t < 4; ++t) EXPECT_TRUE(s.row(t) == s.row(0)) << t;
  for (int t = 5; t < 8; ++t) EXPECT_TRUE(s.row(t) == s.row(4)) << t;
  EXPECT_FALSE(s.row(0) == s.row(4));
  in.spec.sequence_correlation = 0.0;
  const Scores u = generate(in, 0, 0, 8);
  EXPECT_FALSE(u.row(0) == u.row(1));
}

TEST(Workload, RejectsCorrelationOutsideUnitInterval) {
  WorkloadInput in = make_input(Popularity::uniform, 8);
  in.spec.sequence_correlation = 1.5;
  try {
    workload_detail::make_synthetic_workload(in);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.key(), "workload.sequence_correlation");
    EXPECT_STREQ(e.what(), "workload.sequence_correlation: must be in [0, 1] (got '1.500000')");
  }
}

// Distance of a float from a double reference in units of the reference's float spacing.
double ulps_off(float got, double ref) {
  const float rf = static_cast<float>(ref);
  const float spacing = std::nextafter(std::abs(rf), INFINITY) - std::abs(rf);
  return std::abs(static_cast<double>(got) - ref) / spacing;
}

// The noise's two logs against double references, with the bounds synthetic.hpp states (measured there on
// all 2^23 uniforms): y = neg_log2(u) within 2.16 ulp of -log2 u; the Gumbel noise g = gumbel_noise(u)
// within 2.88 ulp of -log(-log u) where |g| > 0.5 and within 1.04e-6 absolute everywhere.
TEST(FastLog, MatchesStdLog) {
  // Subinterval edges, the ends of the uniforms' range and the c = 1 subinterval [0.96875, 1) of z.
  for (float u : {0.5f, 0.75f, 0.96875f, 0.9687499f, 0.70710677f, 1e-7f, 1.0f - 5.96e-8f, 0x1p-24f, 0.25f, 0.375f}) {
    EXPECT_LE(ulps_off(workload_detail::neg_log2(u), -std::log2(static_cast<double>(u))), 2.16) << u;
  }
  // Exact: u = 2^-j has z = 1 in subinterval 0 (c != 1): y = j needs -T2 - k and the polynomial to meet at
  // j within rounding; u = 0.5 has k = -1, z = 1 (subinterval 0), and y = 1.
  for (int j = 1; j <= 24; ++j) {
    EXPECT_LE(ulps_off(workload_detail::neg_log2(std::ldexp(1.0f, -j)), j), 2.16) << j;
  }
  // Just below 1 (k = -1, c = 1: -T2 - k = 0 exactly) y keeps its relative precision: -log2(1 - 2^-24).
  EXPECT_LE(ulps_off(workload_detail::neg_log2(1.0f - 0x1p-24f), -std::log2(1.0 - 0x1p-24)), 2.16);
  for (uint32_t k = 0; k < (1u << 23); k += 7) {  // every 7th of the 2^23 uniforms, both ends included below
    const float u = workload_detail::RowUniforms::to_unit_open(k);
    ASSERT_GT(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    const double ref = std::log(static_cast<double>(u));
    ASSERT_LE(ulps_off(workload_detail::neg_log2(u), -ref / std::log(2.0)), 2.16) << u;
    const float g = workload_detail::gumbel_noise(u);
    const double g_ref = -std::log(-ref);
    ASSERT_NEAR(g, g_ref, 1.04e-6) << u;
    if (std::abs(g_ref) > 0.5) {
      ASSERT_LE(ulps_off(g, g_ref), 2.88) << u;
    }
  }
  for (float u : {0x1p-24f, 1.0f - 0x1p-24f}) {  // the two ends
    EXPECT_NEAR(workload_detail::gumbel_noise(u), -std::log(-std::log(static_cast<double>(u))), 1.04e-6) << u;
  }
  EXPECT_EQ(workload_detail::RowUniforms::to_unit_open(0xff800000u), 0x1p-24f);  // the high 9 bits do not count
  EXPECT_EQ(workload_detail::RowUniforms::to_unit_open(0x007fffffu), 1.0f - 0x1p-24f);
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// Each row's uniforms are the documented ARS-5 words: value e of row r = word e % 4 of counter
// {e / 4, r, stream_lo, stream_hi} (ars_portable, the software rounds; test_ars.cpp checks those against
// Random123 and FIPS-197), whichever path fill takes (AES-NI here when the CPU has it).
// 70 values: more than one block of 16 counters, and a partial last counter.
TEST(RowUniforms, MatchesDocumentedArsWords) {
  const uint64_t seed = 0x123456789abcdefULL, stream = 0xfedcba9876543210ULL;
  const workload_detail::RowUniforms rng(seed, stream);
  std::vector<float> row(71, 7.0f);
  for (int64_t r : {int64_t{0}, int64_t{1}, int64_t{4000000000}}) {
    rng.fill(r, 70, row.data());
    for (int e = 0; e < 70; ++e) {
      const ars::Block w = ars::ars_portable({static_cast<uint32_t>(e / 4), static_cast<uint32_t>(r), 0x76543210u, 0xfedcba98u},
                                             ars::round_keys({0x89abcdefu, 0x01234567u, 0u, 0u}));
      ASSERT_EQ(row[e], workload_detail::RowUniforms::to_unit_open(w[static_cast<size_t>(e % 4)])) << "row " << r << " value " << e;
    }
    ASSERT_EQ(row[70], 7.0f);  // nothing written past n
  }
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// The AVX-512 generator gives the same bits as the portable one (uniforms, gumbel_noise, scale and
// popularity), for row lengths with partial registers and rows far apart.
// Both AVX-512 variants (with VAES; with AES-NI only, as on Cascade Lake), where this CPU can
// run them.
std::vector<workload_detail::GumbelRowFn> avx512_row_variants() {
  std::vector<workload_detail::GumbelRowFn> out;
  if (workload_detail::gumbel_avx512_supported()) out.push_back(workload_detail::gumbel_row_avx512);
  if (workload_detail::gumbel_avx512_aesni_supported()) out.push_back(workload_detail::gumbel_row_avx512_aesni);
  return out;
}

TEST(GumbelRow, Avx512MatchesScalar) {
  if (avx512_row_variants().empty()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const workload_detail::RowUniforms rng(0x123456789abcdefULL, 0xfedcba9876543210ULL);
  std::vector<float> logp(300);
  for (size_t e = 0; e < logp.size(); ++e) logp[e] = -0.01f * static_cast<float>(e) - 1.5f;
  for (auto fn : avx512_row_variants())
    for (int n : {1, 3, 8, 16, 17, 31, 32, 33, 64, 70, 256, 300}) {
      for (int64_t r : {int64_t{0}, int64_t{5}, int64_t{4000000000}}) {
        for (const float* lp : {static_cast<const float*>(nullptr), static_cast<const float*>(logp.data())})
          for (float scale : {1.25f, 1.0f}) {  // 1: the AVX-512 path skips the product
            std::vector<float> slow(n + 1, 7.0f), fast(n + 1, 7.0f);  // + 1: nothing written past n
            workload_detail::gumbel_row_scalar(rng, r, n, lp, scale, slow.data());
            fn(rng, r, n, lp, scale, fast.data());
            ASSERT_EQ(0, std::memcmp(slow.data(), fast.data(), sizeof(float) * (n + 1))) << "n " << n << " row " << r;
          }
      }
    }
}

// Several rows at once (gumbel_rows: steps of 4 registers across row ends for rows of 16 P values up to
// 512, then the rest up to 8 registers at a time with masks) give the bits of one gumbel_row_scalar call
// per row, for steps that end mid-row, row counts whose last registers make no whole step (n = 32 or 48
// and one row: fewer than 4 registers in all), and rows wider than 512.
TEST(GumbelRow, RowsAtOnceMatchRowByRow) {
  const workload_detail::RowUniforms rng(99, 0xabcdef);
  std::vector<float> logp(528);
  for (size_t e = 0; e < logp.size(); ++e) logp[e] = 0.02f * static_cast<float>(e % 7) - 2.0f;
  std::vector<workload_detail::GumbelRowsFn> fns = {workload_detail::gumbel_rows_scalar, workload_detail::gumbel_rows()};
  if (workload_detail::gumbel_avx512_aesni_supported()) fns.push_back(workload_detail::gumbel_rows_avx512_aesni);
  for (auto fn : fns) {
    for (int n : {32, 48, 64, 63, 128, 160, 256, 528}) {  // 48, 160: blocks end mid-row; 528: past the full path
      for (int64_t rows : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{5}, int64_t{8}}) {
        for (int64_t row0 : {int64_t{0}, int64_t{11}, int64_t{4294967294}}) {  // the last: 32-bit row counters wrap
          for (const float* lp : {static_cast<const float*>(nullptr), static_cast<const float*>(logp.data())}) {
            const size_t len = static_cast<size_t>(rows * n);
            std::vector<float> slow(len + 1, 7.0f), fast(len + 1, 7.0f);  // + 1: nothing written past the rows
            for (int64_t r = 0; r < rows; ++r)
              workload_detail::gumbel_row_scalar(rng, row0 + r, n, lp, 0.75f, slow.data() + r * n);
            fn(rng, row0, rows, n, lp, 0.75f, fast.data());
            ASSERT_EQ(0, std::memcmp(slow.data(), fast.data(), sizeof(float) * (len + 1)))
                << "n " << n << " rows " << rows << " row0 " << row0;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace moesim
