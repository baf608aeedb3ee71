// The throughput model against published measurements: every case under configs/validation/ carries
// its published figures, sources and bounds (issue 3: Pangu Pro MoE on 800I A2 and DeepSeek-V3 on H800
// within 15%, DeepEP low-latency all-to-all within 15% from EP8 to EP256, MoE/dense ratios within 20%).
#include "moesim/config.hpp"
#include "moesim/validation.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

TEST(Published, EveryValidatedErrorStaysWithinItsBound) {
  const auto files = published_cases({std::string(MOESIM_SOURCE_DIR) + "/configs"});
  ASSERT_GE(files.size(), 14u) << "6 DeepEP cases, 2 DeepSeek-V3, 2 Pangu Pro MoE, 4 dense baselines";
  const auto rows = validate_published(files, builtin_registries());
  ASSERT_GE(rows.size(), 24u);
  int ratios = 0;
  for (const auto& r : rows) {
    EXPECT_TRUE(r.within()) << r.name << " " << r.metric << ": predicted " << r.predicted << ", published "
                            << r.published << ", error " << r.error << " beyond " << r.tolerance;
    EXPECT_LE(r.tolerance, r.metric.find(" ratio ") != std::string::npos || r.name.rfind("dense", 0) == 0 ? 0.20 : 0.15)
        << r.name << ": bounds are the issue's, not loosened per case";
    ratios += r.metric.find(" ratio ") != std::string::npos;
  }
  EXPECT_EQ(ratios, 4) << "MoE/dense for 32B and 72B, prefill and decode";
}

}  // namespace
}  // namespace moesim
