// The throughput model against published measurements: every case under configs/validation/ carries
// its published figures, sources, bounds and role (issue 3: Pangu Pro MoE on 800I A2 and DeepSeek-V3 on
// H800 within 15%, DeepEP low-latency all-to-all within 15% from EP8 to EP256, MoE/dense ratios within 20%;
// issue 5: the cost per trillion training tokens of Ling-Plus on the Ling paper's devices D and A).
// A held-out figure the model is known to miss says so (known_miss: its error and why); it must stay at
// that error, so that a change to the model shows, and a miss the model now hits must lose its label.
#include "moesim/config.hpp"
#include "moesim/validation.hpp"

#include <gtest/gtest.h>

#include <set>

namespace moesim {
namespace {

TEST(Published, EveryValidatedErrorStaysWithinItsBound) {
  const auto files = published_cases({std::string(MOESIM_SOURCE_DIR) + "/configs"});
  ASSERT_GE(files.size(), 20u) << "7 DeepEP cases, 3 DeepSeek-V3, 4 Pangu Pro MoE, 4 dense baselines, 2 Ling-Plus";
  const auto rows = validate_published(files, builtin_registries());
  ASSERT_GE(rows.size(), 32u);
  int ratios = 0, calibration = 0;
  std::set<std::string> misses;
  for (const auto& r : rows) {
    const bool ratio = r.metric.find(" ratio ") != std::string::npos;
    EXPECT_LE(r.tolerance, ratio || r.name.rfind("dense", 0) == 0 ? 0.20 : 0.15)
        << r.name << ": bounds are the issue's, not loosened per case";
    ratios += ratio;
    calibration += r.role == "calibration";
    if (r.known_miss) {
      misses.insert(r.name + " " + r.metric);
      EXPECT_FALSE(r.within()) << r.name << " " << r.metric << " is now within its bound: drop its known_miss";
      EXPECT_EQ(r.role, "held_out") << r.name << ": a figure used for calibration cannot be a known miss";
      EXPECT_TRUE(r.accepted()) << r.name << " " << r.metric << ": error " << r.error << " moved from its recorded "
                                << r.miss_error;
    } else {
      EXPECT_TRUE(r.within()) << r.name << " " << r.metric << ": predicted " << r.predicted << ", published "
                              << r.published << ", error " << r.error << " beyond " << r.tolerance;
    }
  }
  EXPECT_EQ(ratios, 5) << "MoE/dense for 32B and 72B, prefill and decode; Ling-Plus on device A over device D";
  // Calibration figures are labelled: DeepEP LL EP8 (2), the DeepSeek-V3 decode trace, the Pangu batch-1
  // TPOT, the dense 72B prefill and decode, the A3 low-latency combine.
  EXPECT_EQ(calibration, 7);
  // The issue's own targets are never among the known misses.
  for (const auto& m : misses) {
    EXPECT_EQ(m.find("deepep-ll"), std::string::npos) << m;
    EXPECT_EQ(m.find("pangu-pro-moe-decode-800i-a2"), std::string::npos) << m;
    EXPECT_EQ(m.find("pangu-pro-moe-prefill-800i-a2"), std::string::npos) << m;
    EXPECT_EQ(m.find("deepseek-v3-prefill"), std::string::npos) << m;
    EXPECT_EQ(m.find("deepseek-v3-decode"), std::string::npos) << m;
  }
  EXPECT_EQ(misses.size(), 5u) << "the A3 low-latency dispatch, the DeepSeek-V3 pre-training GPU-hours, and Ling-Plus's "
                                  "training cost on devices D and A and their ratio";
}

}  // namespace
}  // namespace moesim
