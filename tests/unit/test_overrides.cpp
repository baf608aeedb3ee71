// --set overrides reach every key a scenario file may write: deployment.* and the nested hardware mapping
// cluster.hardware.* (a preset name there becomes {preset: NAME, <key>: value}, merged key by key).
#include "config/schema.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <gtest/gtest.h>

namespace {

using moesim::Error;
using moesim::ScenarioSpec;

const std::string kConfigs = std::string(MOESIM_SOURCE_DIR) + "/configs";
// Pangu Pro MoE decode on 8 x ascend-910b: attention DP2 x TP4, experts EP8 x TP1, context 2048, W8A8.
const std::string kScenario = kConfigs + "/scenarios/pangu-moge-vs-topk-910b.yaml";

ScenarioSpec load(std::vector<std::string> overrides) {
  moesim::LoadOptions lo;
  lo.overrides = std::move(overrides);
  lo.preset_dirs = {kConfigs};
  return moesim::load_scenario(kScenario, lo, moesim::builtin_registries());
}

std::string error_of(std::vector<std::string> overrides) {
  try {
    load(std::move(overrides));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// The scenario file says context_length 2048 and experts {ep: 8, tp: 1}; each override must win.
TEST(Overrides, DeploymentKeys) {
  const ScenarioSpec base = load({});
  ASSERT_EQ(base.deployment.context_length, 2048);
  ASSERT_EQ(base.deployment.experts.dp, 8);
  const ScenarioSpec s = load({"deployment.context_length=1000", "deployment.experts.ep=4", "deployment.experts.tp=2",
                               "deployment.dtypes.kv_cache=int8", "deployment.mtp.tokens=1",
                               "deployment.mtp.acceptance=0.8", "deployment.overlap=true", "deployment.phase=prefill"});
  EXPECT_EQ(s.deployment.context_length, 1000);
  EXPECT_EQ(s.deployment.experts.dp, 4);  // ep 4 x tp 2 = the 8 devices
  EXPECT_EQ(s.deployment.experts.tp, 2);
  EXPECT_EQ(s.deployment.kv_cache, moesim::DType::int8);
  EXPECT_EQ(s.deployment.mtp_tokens, 1);
  EXPECT_DOUBLE_EQ(s.deployment.mtp_acceptance, 0.8);
  EXPECT_TRUE(s.deployment.overlap);
  EXPECT_EQ(s.deployment.phase, moesim::Phase::prefill);
  // Untouched keys keep the file's values: attention DP2 x TP4.
  EXPECT_EQ(s.deployment.attention.dp, 2);
  EXPECT_EQ(s.deployment.attention.tp, 4);
  // A per-setup key path is checked the same way as the top-level one.
  EXPECT_EQ(load({"setups[1].router.groups=8"}).setups[1].router.groups, 8);
}

// cluster.hardware is the preset name "ascend-910b" in the file: an override of one nested key keeps every
// other figure of the preset, including the overridden entry's own source.
TEST(Overrides, NestedHardwareKeysMergeIntoThePreset) {
  const moesim::HardwareSpec preset = moesim::load_hardware_preset("ascend-910b", {kConfigs});
  const ScenarioSpec s = load({"cluster.hardware.calibrated.gemm.value=0.5", "cluster.hardware.price.usd_per_hour=3.25",
                               "cluster.hardware.nominal.scale_up.bandwidth=100e9"});
  EXPECT_EQ(s.hardware.name, "ascend-910b");
  EXPECT_DOUBLE_EQ(s.hardware.eff.gemm.value, 0.5);
  EXPECT_EQ(s.hardware.eff.gemm.source, preset.eff.gemm.source);
  EXPECT_DOUBLE_EQ(s.hardware.eff.grouped_gemm.value, preset.eff.grouped_gemm.value);
  EXPECT_DOUBLE_EQ(s.hardware.usd_per_hour, 3.25);
  EXPECT_EQ(s.hardware.price_date, preset.price_date);
  EXPECT_DOUBLE_EQ(s.hardware.scale_up.bandwidth_bytes_per_s, 100e9);
  EXPECT_EQ(s.hardware.scale_up.name, preset.scale_up.name);
  EXPECT_DOUBLE_EQ(s.hardware.memory_bandwidth_bytes_per_s, preset.memory_bandwidth_bytes_per_s);
  // Swapping the whole preset still works.
  EXPECT_EQ(load({"cluster.hardware=ascend-910c"}).hardware.name, "ascend-910c");
}

// The checker walks the same key lists as the loaders (schema.hpp): every key of every deployment and
// hardware section is accepted as a path; a key beside them is refused with the list.
TEST(Overrides, EveryDeploymentAndHardwareKeyIsAPath) {
  namespace schema = moesim::config::schema;
  const auto accepted = [](const std::string& path) {
    const std::string e = error_of({path + "=1"});
    return e.find("unknown key") == std::string::npos && e.find("has no keys") == std::string::npos &&
           e.find("not a list") == std::string::npos;
  };
  for (auto k : schema::kDeployment) EXPECT_TRUE(accepted("deployment." + std::string(k))) << k;
  for (auto k : schema::kDeploymentDtypes) EXPECT_TRUE(accepted("deployment.dtypes." + std::string(k))) << k;
  for (auto k : schema::kHardwareNominal) EXPECT_TRUE(accepted("cluster.hardware.nominal." + std::string(k))) << k;
  for (auto k : schema::kHardwareCalibrated)
    for (auto e : schema::kHardwareEntry)
      EXPECT_TRUE(accepted("cluster.hardware.calibrated." + std::string(k) + "." + std::string(e))) << k;
  for (auto k : schema::kHardwarePrice) EXPECT_TRUE(accepted("cluster.hardware.price." + std::string(k))) << k;
}

TEST(Overrides, BadDeploymentPathsNameTheValidKeys) {
  EXPECT_EQ(error_of({"deployment.attention.pp=2"}),
            "--set: deployment.attention.pp: unknown key; valid keys: dp, tp (got 'deployment.attention.pp=2')");
  EXPECT_EQ(error_of({"deployment.context_length.max=2"}),
            "--set: deployment.context_length: is a single value; it has no keys (got 'deployment.context_length.max=2')");
  EXPECT_EQ(error_of({"cluster.hardware.calibrated.gemm.val=0.5"}),
            "--set: cluster.hardware.calibrated.gemm.val: unknown key; valid keys: value, source (got "
            "'cluster.hardware.calibrated.gemm.val=0.5')");
  EXPECT_EQ(error_of({"cluster.hardware.calibrated.flops=0.5"}),
            "--set: cluster.hardware.calibrated.flops: unknown key; valid keys: " +
                moesim::config::join(moesim::config::schema::kHardwareCalibrated) +
                " (got 'cluster.hardware.calibrated.flops=0.5')");
  // A bad value an override wrote blames the override, with the loader's own check.
  EXPECT_EQ(error_of({"deployment.context_length=-5"}),
            "--set: deployment.context_length: expected a positive integer (got '-5')");
  EXPECT_EQ(error_of({"cluster.hardware.calibrated.gemm.value=1.5"}),
            "--set: cluster.hardware.calibrated.gemm.value: expected a fraction of nominal in (0, 1] (got '1.5')");
}

}  // namespace
