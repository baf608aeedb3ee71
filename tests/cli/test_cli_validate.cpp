// `moesim validate --published` as a user runs it: one JSON object per published figure.
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

TEST(CliValidate, PublishedJsonHasNameMetricPredictedPublishedError) {
  // Two small cases keep the test quick; without file arguments every configs/validation case runs.
  const auto r = run_moesim("validate --published --format json '" + source_path("configs/validation/deepep-ll-ep8.yaml") +
                            "' '" + source_path("configs/validation/pangu-pro-moe-decode-800i-a2.yaml") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = nlohmann::json::parse(r.out);
  ASSERT_EQ(a.size(), 3u) << "dispatch and combine for DeepEP EP8, decode throughput for Pangu";
  for (const auto& row : a) {
    for (const char* k : {"name", "metric", "predicted", "published", "error"}) EXPECT_TRUE(row.contains(k)) << k;
    const double p = row["predicted"], q = row["published"], e = row["error"];
    EXPECT_NEAR(e, (p - q) / q, 1e-12);
  }
  EXPECT_EQ(a[0]["name"], "deepep-ll-ep8");
  EXPECT_EQ(a[0]["metric"], "dispatch_per_layer_s");
  EXPECT_EQ(a[0]["published"], 77e-6);
}

TEST(CliValidate, ThroughputTableOnARunWithADeployment) {
  const auto r = run_moesim("run '" + source_path("configs/validation/pangu-pro-moe-decode-800i-a2.yaml") + "' --steps 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"throughput on 4 x ascend-910b", "TPOT (ms)", "tokens/s per device", "lost to imbalance",
                        "largest batch that fits"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(CliValidate, ValidateWithoutFilesOrPublishedIsAUsageError) {
  const auto r = run_moesim("validate");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--published"), std::string::npos) << r.err;
}

}  // namespace
