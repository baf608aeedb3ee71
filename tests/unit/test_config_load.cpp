// config/: YAML scenario files, presets and --set overrides -> ScenarioSpec: what valid files load as (the
// errors are in test_config_errors.cpp).
#include "support/scenario_text.hpp"

#include <gtest/gtest.h>

namespace {

using namespace moesim::test;

// ---- positive cases ---------------------------------------------------------------------------

TEST(ConfigLoad, DefaultScenarioFillsRouterDefaultsFromTheModel) {
  const auto s = moesim::load_scenario(kConfigs + "/scenarios/pangu-moe-vs-moge.yaml", options(),
                                       moesim::builtin_registries());
  EXPECT_EQ(s.name, "pangu-moe-vs-moge");
  EXPECT_EQ(s.model.name, "pangu-pro-moe");
  EXPECT_EQ(s.model.num_experts, 64);
  EXPECT_EQ(s.cluster.devices, 8);
  EXPECT_EQ(s.run.steps, 1000);
  EXPECT_EQ(s.run.tokens_per_step, 16);
  ASSERT_EQ(s.setups.size(), 2u);
  const auto& top8 = s.setups[0];
  EXPECT_EQ(top8.name, "top8");
  EXPECT_EQ(top8.router.name, "topk");
  EXPECT_EQ(top8.router.k, 8);
  EXPECT_EQ(top8.router.num_experts, 64);
  EXPECT_EQ(top8.router.scoring, moesim::ScoringFunc::softmax);
  EXPECT_FALSE(top8.router.normalize);
  EXPECT_EQ(top8.placement.name, "contiguous");
  const auto& moge = s.setups[1];
  EXPECT_EQ(moge.router.name, "moge");
  EXPECT_EQ(moge.router.groups, 8);
  EXPECT_EQ(moge.router.k, 8);  // from the model's top_k
  EXPECT_EQ(moge.placement.name, "by_group");
  EXPECT_EQ(moge.workload.popularity, moesim::Popularity::uniform);
}

TEST(ConfigLoad, DeepSeekRouterDefaults) {
  const auto s = parse("model: deepseek-v3\ncluster: {devices: 32}\n");
  ASSERT_EQ(s.setups.size(), 1u);
  const auto& r = s.setups[0].router;
  EXPECT_EQ(s.setups[0].name, "default");
  EXPECT_EQ(r.name, "group_limited");
  EXPECT_EQ(r.num_experts, 256);
  EXPECT_EQ(r.k, 8);
  EXPECT_EQ(r.groups, 8);
  EXPECT_EQ(r.topk_group, 4);
  EXPECT_EQ(r.scoring, moesim::ScoringFunc::sigmoid);
  EXPECT_TRUE(r.normalize);
  EXPECT_DOUBLE_EQ(r.scaling, 2.5);
  EXPECT_EQ(r.group_score, moesim::GroupScore::top2_sum);  // the preset: noaux_tc
  EXPECT_TRUE(r.bias.empty());
  EXPECT_EQ(s.model.moe_layers(), 58);
}

// group_score and a static bias written in the scenario; a model without group_score (Pangu Pro MoE)
// gives max; the router key overrides it.
TEST(ConfigLoad, GroupScoreAndStaticBias) {
  const auto s = parse(pangu("{name: group_limited, groups: 8, topk_group: 4, group_score: top2_sum, bias: " +
                             bias_list(64) + "}"));
  EXPECT_EQ(s.model.group_score, moesim::GroupScore::max);
  EXPECT_EQ(s.setups[0].router.group_score, moesim::GroupScore::max);
  const auto& r = s.setups[1].router;
  EXPECT_EQ(r.group_score, moesim::GroupScore::top2_sum);
  ASSERT_EQ(r.bias.size(), 64u);
  EXPECT_FLOAT_EQ(r.bias[0], -0.02f);
  EXPECT_FLOAT_EQ(r.bias[63], 0.01f);  // 63 % 5 = 3
  EXPECT_TRUE(s.setups[0].router.bias.empty());
}

TEST(ConfigLoad, SetupsOverrideTheDefaultsKeyByKey) {
  const auto s = parse(
      "model: qwen3-30b-a3b\n"
      "router: {name: topk, k: 4, normalize: false}\n"
      "capacity: {factor: 1.25}\n"
      "workload: {popularity: zipf, zipf_exponent: 1.2}\n"
      "setups:\n"
      "  - {name: a}\n"
      "  - {name: b, router: {k: 2}, workload: {zipf_exponent: 0.5}}\n");
  ASSERT_EQ(s.setups.size(), 2u);
  EXPECT_EQ(s.setups[0].router.k, 4);
  EXPECT_EQ(s.setups[1].router.k, 2);
  EXPECT_EQ(s.setups[1].router.name, "topk");
  EXPECT_FALSE(s.setups[1].router.normalize);
  EXPECT_DOUBLE_EQ(s.setups[1].capacity.factor, 1.25);
  EXPECT_EQ(s.setups[1].workload.popularity, moesim::Popularity::zipf);
  EXPECT_DOUBLE_EQ(s.setups[0].workload.zipf_exponent, 1.2);
  EXPECT_DOUBLE_EQ(s.setups[1].workload.zipf_exponent, 0.5);
}

TEST(ConfigLoad, SetOverridesListEntriesDefaultsAndValues) {
  const auto s = parse(pangu(), {"setups[1].router.k=16", "setups.0.router.k=4", "run.tokens_per_step=32",
                                 "router.scaling=2", "placement.name=contiguous"});
  EXPECT_EQ(s.setups[0].router.k, 4);
  EXPECT_EQ(s.setups[1].router.k, 16);
  EXPECT_EQ(s.run.tokens_per_step, 32);
  EXPECT_DOUBLE_EQ(s.setups[0].router.scaling, 2.0);  // the defaults reach every setup
  EXPECT_EQ(s.setups[1].placement.name, "by_group");   // ... unless the setup says otherwise
  EXPECT_EQ(s.setups[0].placement.name, "contiguous");
}

TEST(ConfigLoad, SetValuesAreYaml) {
  const auto s = parse("model: mixtral-8x7b\nplacement: {name: explicit}\n",
                       {"placement.device_of_expert=[7, 6, 5, 4, 3, 2, 1, 0]"});
  EXPECT_EQ(s.setups[0].placement.device_of_expert, (std::vector<int>{7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST(ConfigLoad, SetOnAPresetModelMakesAnInlineModel) {
  const auto s = parse(pangu("{name: topk}"), {"model.top_k=4"});
  EXPECT_EQ(s.model.name, "pangu-pro-moe");
  EXPECT_EQ(s.model.top_k, 4);
  EXPECT_EQ(s.model.num_experts, 64);
  EXPECT_EQ(s.setups[1].router.k, 4);  // the router default follows the overridden model
  const auto other = parse(pangu(), {"model=deepseek-v3", "setups[1].router.name=group_limited"});
  EXPECT_EQ(other.model.name, "deepseek-v3");
}

TEST(ConfigLoad, InlineModelWithPresetOverride) {
  const auto s = parse("model: {preset: deepseek-v3, name: dsv3-small, num_layers: 13, topk_group: 2}\n");
  EXPECT_EQ(s.model.name, "dsv3-small");
  EXPECT_EQ(s.model.num_layers, 13);
  EXPECT_EQ(s.model.moe_layers(), 10);
  EXPECT_EQ(s.model.hidden, 7168);  // kept from the preset
  EXPECT_EQ(s.setups[0].router.topk_group, 2);
}

TEST(ConfigLoad, FullyInlineModel) {
  const auto s = parse(
      "model: {num_layers: 4, num_experts: 16, top_k: 2, router: topk}\n"
      "cluster: {devices: 4, devices_per_node: 4}\n");
  EXPECT_EQ(s.model.name, "custom");
  EXPECT_EQ(s.setups[0].router.k, 2);
  EXPECT_EQ(s.setups[0].router.num_experts, 16);
}

TEST(ConfigLoad, DenseModelLoads) {
  const auto s = parse("model: llama-3.1-70b\n");
  EXPECT_FALSE(s.model.is_moe());
  EXPECT_EQ(s.simulated_layers(), 0);
}

TEST(ConfigLoad, EveryShippedScenarioAndPresetLoads) {
  const auto& reg = moesim::builtin_registries();
  const auto scenarios = moesim::list_presets("scenarios", {kConfigs});
  EXPECT_GE(scenarios.size(), 4u);
  for (const auto& p : scenarios) EXPECT_NO_THROW(moesim::load_scenario(p.path, options(), reg)) << p.path;
  const auto models = moesim::list_presets("models", {kConfigs});
  ASSERT_GE(models.size(), 8u);  // at least the presets the routing-engine issue asked for, and the dense baselines
  for (const auto& p : models) {
    EXPECT_FALSE(p.description.empty()) << p.name;
    const auto m = moesim::load_model_preset(p.name, {kConfigs});
    EXPECT_FALSE(m.source.empty()) << p.name;
  }
}

TEST(ConfigLoad, DefaultPresetDirsHonourTheEnvironment) {
  const auto dirs = moesim::default_preset_dirs();
  ASSERT_GE(dirs.size(), 2u);
  EXPECT_EQ(dirs.back(), "configs");
}

}  // namespace
