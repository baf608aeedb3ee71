// moesim plan as a user runs it: the JSON shape, the option checks, prices, the modes.
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

const std::string kDecode = "'" + source_path("configs/validation/deepseek-v3-decode-h800.yaml") + "'";
const std::string kPrefill = "'" + source_path("configs/validation/deepseek-v3-prefill-h800.yaml") + "'";
// 2 hardware x 2 device counts x TP1 x 2 batches: small enough for a test.
const std::string kSmall = " --hardware h800,ascend-910b --devices 16,32 --tp 1 --batch 32,64 --format json";

nlohmann::json plan_json(const std::string& args) {
  const auto r = run_moesim("plan " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
}

// Every "best" entry has the same keys whether it meets the limits or not.
TEST(CliPlan, BestEntriesHaveOneShapeAndAMissSaysWhy) {
  const auto j = plan_json(kDecode + " --target-tokens-per-s 100000 --max-tpot-ms 60" + kSmall);
  ASSERT_EQ(j["best"].size(), 2u);
  const auto &h800 = j["best"][0], &ascend = j["best"][1];
  std::vector<std::string> keys, other;
  for (const auto& [k, v] : h800.items()) keys.push_back(k);
  for (const auto& [k, v] : ascend.items()) other.push_back(k);
  EXPECT_EQ(keys, other);
  EXPECT_EQ(h800["hardware"], "h800");
  EXPECT_TRUE(h800["meets"].get<bool>());
  EXPECT_TRUE(h800["reason"].is_null());
  EXPECT_EQ(h800["router"], "group_limited");
  ASSERT_EQ(h800["pools"].size(), 1u);
  EXPECT_EQ(h800["pools"][0]["role"], "decode");
  EXPECT_LE(h800["tpot_s"].get<double>(), 0.060);
  EXPECT_DOUBLE_EQ(h800["tpot_s"].get<double>(), h800["pools"][0]["latency_p99_s"].get<double>());
  // The FP8 scenario cannot run on the 910B: 2 device counts x 2 batches, all rejected.
  EXPECT_FALSE(ascend["meets"].get<bool>());
  EXPECT_EQ(ascend["reason"], "every decode candidate was rejected: no FP8 support (4)");
  EXPECT_TRUE(ascend["pools"].empty());
  // Nothing meets 1 ms: the entry carries the nearest miss.
  const auto miss = plan_json(kDecode + " --target-tokens-per-s 100000 --max-tpot-ms 1" + kSmall)["best"][0];
  EXPECT_FALSE(miss["meets"].get<bool>());
  EXPECT_NE(miss["reason"].get<std::string>().find("no decode candidate meets TPOT p99 <= 1.0 ms"), std::string::npos);
  ASSERT_EQ(miss["pools"].size(), 1u);
  EXPECT_FALSE(miss["pools"][0]["meets_latency"].get<bool>());
}

TEST(CliPlan, ALimitOrOptionThePlanDoesNotUseIsAnError) {
  const auto ttft = run_moesim("plan " + kDecode + " --target-tokens-per-s 1000 --max-ttft-ms 500");
  EXPECT_EQ(ttft.exit_code, 2);
  EXPECT_NE(ttft.err.find("--max-ttft-ms: the scenario plans decode alone (deployment.phase: decode), which has no time "
                          "to first token; plan prefill and decode together with --mode disaggregated"),
            std::string::npos)
      << ttft.err;
  const auto tpot = run_moesim("plan " + kPrefill + " --target-tokens-per-s 1000 --max-tpot-ms 50");
  EXPECT_EQ(tpot.exit_code, 2);
  EXPECT_NE(tpot.err.find("--max-tpot-ms: the scenario plans prefill alone"), std::string::npos) << tpot.err;
  const auto tokens = run_moesim("plan " + kDecode + " --target-tokens-per-s 1000 --input-tokens 100");
  EXPECT_EQ(tokens.exit_code, 2);
  EXPECT_NE(tokens.err.find("--input-tokens: only with --mode disaggregated or colocated"), std::string::npos) << tokens.err;
  const auto mix = run_moesim("plan " + kDecode + " --target-tokens-per-s 1000 --mode colocated --output-tokens 10");
  EXPECT_EQ(mix.exit_code, 2);
  EXPECT_NE(mix.err.find("--input-tokens: --mode colocated needs the tokens of a request"), std::string::npos) << mix.err;
  const auto batch = run_moesim("plan " + kPrefill + " --target-tokens-per-s 1000 --batch 8");
  EXPECT_EQ(batch.exit_code, 2);
  EXPECT_NE(batch.err.find("a prefill plan takes --prefill-batch"), std::string::npos) << batch.err;
  // A device count of 0 is a bad command line: exit 2 like any bad input (CLI11's own codes are not used).
  const auto zero = run_moesim("plan " + kDecode + " --target-tokens-per-s 1000 --devices 0,8");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--devices: Value 0 not in range"), std::string::npos) << zero.err;
  const auto bad = run_moesim("plan '" + source_path("configs/scenarios/pangu-moe-vs-moge.yaml") + "' --target-tokens-per-s 1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("plan needs a deployment section"), std::string::npos) << bad.err;
}

// --price replaces the preset's price: every cost follows it and the output names the command line.
TEST(CliPlan, PriceOverridesNameTheirSource) {
  const auto j = plan_json(kDecode + " --target-tokens-per-s 100000 --max-tpot-ms 60 --price h800=3.5" + kSmall);
  EXPECT_EQ(j["prices"][0]["hardware"], "h800");
  EXPECT_EQ(j["prices"][0]["usd_per_hour"], 3.5);
  EXPECT_EQ(j["prices"][0]["source"], "--price on the command line");
  EXPECT_TRUE(j["prices"][0]["date"].is_null());
  EXPECT_EQ(j["prices"][1]["date"], "2025-03") << "the preset's date (configs/hardware/ascend-910b.yaml)";
  for (const auto& c : j["candidates"]) {
    if (c["hardware"] == "h800") {
      EXPECT_DOUBLE_EQ(c["usd_per_hour"].get<double>(), c["replicas"].get<double>() * c["devices"].get<double>() * 3.5);
    }
  }
  const auto unknown = run_moesim("plan " + kDecode + " --target-tokens-per-s 1 --hardware h800 --price h100=1");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--price: 'h100' is not among the planned hardware: h800 (got 'h100=1')"), std::string::npos)
      << unknown.err;
  const auto nan = run_moesim("plan " + kDecode + " --target-tokens-per-s 1 --hardware h800 --price h800=cheap");
  EXPECT_EQ(nan.exit_code, 2);
  EXPECT_NE(nan.err.find("expected a price in USD per device-hour"), std::string::npos) << nan.err;
}

// Disaggregated, 2000 + 500 tokens per request: the prefill pool meets TTFT, the decode pool TPOT, and
// the entry's cost is their sum over the target's output tokens.
TEST(CliPlan, DisaggregatedPlansBothPoolsWithBothLimits) {
  const auto j = plan_json(kDecode + " --target-tokens-per-s 100000 --mode disaggregated --input-tokens 2000 "
                                     "--output-tokens 500 --max-tpot-ms 60 --max-ttft-ms 3000 --prefill-batch 4096" + kSmall);
  EXPECT_EQ(j["mode"], "disaggregated");
  EXPECT_EQ(j["max_ttft_s"], 3.0);
  const auto& b = j["best"][0];
  ASSERT_TRUE(b["meets"].get<bool>()) << b["reason"];
  ASSERT_EQ(b["pools"].size(), 2u);
  EXPECT_EQ(b["pools"][0]["role"], "prefill");
  EXPECT_EQ(b["pools"][1]["role"], "decode");
  const double sum = b["pools"][0]["usd_per_hour"].get<double>() + b["pools"][1]["usd_per_hour"].get<double>();
  EXPECT_DOUBLE_EQ(b["usd_per_hour"].get<double>(), sum);
  EXPECT_DOUBLE_EQ(b["usd_per_million_tokens"].get<double>(), sum / (100000 * 3600.0) * 1e6);
  EXPECT_LE(b["ttft_s"].get<double>(), 3.0);
  EXPECT_LE(b["tpot_s"].get<double>(), 0.060);
}

// The table names each setup's router and says how the p99 was obtained.
TEST(CliPlan, TableNamesTheRouterAndTheSampling) {
  const auto r = run_moesim("plan " + kDecode + " --target-tokens-per-s 100000 --max-tpot-ms 60 --hardware h800 "
                                                "--devices 16 --tp 1 --batch 32 --sample-steps 3 --sample-layers 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("default (group_limited)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p99 step time over 3 sampled steps, each from 1 routed MoE layers standing for all 58"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h800 $2.00 (DeepSeek-V3 paper"), std::string::npos) << "the price's source";
}

}  // namespace
