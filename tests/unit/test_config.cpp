// config/: YAML scenario files, presets and --set overrides -> ScenarioSpec. Errors are asserted by their
// exact text: what a user reads is part of the interface.
#include "config/schema.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

namespace {

using moesim::Error;
using moesim::LoadOptions;
using moesim::ScenarioSpec;

const std::string kConfigs = std::string(MOESIM_SOURCE_DIR) + "/configs";

LoadOptions options(std::vector<std::string> overrides = {}) {
  LoadOptions opt;
  opt.overrides = std::move(overrides);
  opt.preset_dirs = {kConfigs};
  return opt;
}

ScenarioSpec parse(const std::string& text, std::vector<std::string> overrides = {}) {
  return moesim::parse_scenario(text, "s.yaml", options(std::move(overrides)), moesim::builtin_registries());
}

// The exact Error::what() that parsing `text` (with overrides) throws, or "no error".
std::string error_of(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    parse(text, std::move(overrides));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Two setups on Pangu Pro MoE; tests splice one bad line into it.
std::string pangu(const std::string& setup1_router = "{name: moge, groups: 8}", const std::string& extra = "") {
  return "model: pangu-pro-moe\n"
         "cluster: {devices: 8, devices_per_node: 8}\n"
         "run: {steps: 10, tokens_per_step: 16}\n" +
         extra +
         "setups:\n"
         "  - name: top8\n"
         "    router: {name: topk, k: 8}\n"
         "  - name: moge\n"
         "    router: " + setup1_router + "\n"
         "    placement: {name: by_group}\n";
}

// The router keys, in schema order (config/schema.hpp).
const std::string kRouterKeys = moesim::config::join(moesim::config::schema::kRouter);
// The top-level keys, in schema order (config/schema.hpp).
const std::string kTopKeys = moesim::config::join(moesim::config::schema::kTop);

// ---- errors: exact messages -------------------------------------------------------------------

TEST(ConfigErrors, YamlSyntaxErrorNamesFileLineAndColumn) {
  // tokens_per_step is indented by one space: neither inside run nor at the top level.
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun:\n  steps: 10\n tokens_per_step: 16\n"),
            "s.yaml: line 4, column 2: YAML syntax error: end of map not found");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {steps: 10\n"),
            "s.yaml: line 3, column 1: YAML syntax error: end of map flow not found");
}

TEST(ConfigErrors, UnknownKeyNamesItsPathAndListsTheValidKeys) {
  EXPECT_EQ(error_of(pangu("{name: moge, groups: 8, kk: 4}")),
            "s.yaml: setups[1].router.kk: unknown key; valid keys: " + kRouterKeys);
  EXPECT_EQ(error_of(pangu() + "colour: blue\n"), "s.yaml: colour: unknown key; valid keys: " + kTopKeys);
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {steps: 4}\nrun: {steps: 5}\n"), "s.yaml: run: duplicate key");
  EXPECT_EQ(error_of("model: pangu-pro-moe\ncluster: {device: 8}\n"),
            "s.yaml: cluster.device: unknown key; valid keys: devices, devices_per_node, hardware");
}

TEST(ConfigErrors, UnknownRouterListsTheRegisteredOnes) {
  EXPECT_EQ(error_of(pangu("{name: mogee}")),
            "s.yaml: setups[1].router.name: unknown router; valid: expert_choice, group_limited, hash, moge, topk "
            "(got 'mogee')");
}

TEST(ConfigErrors, UnknownPlacementAndWorkload) {
  EXPECT_EQ(error_of(pangu("{name: moge}", "placement: {name: nowhere}\n")),
            "s.yaml: placement.name: unknown placement; valid: by_group, contiguous, eplb, explicit, round_robin "
            "(got 'nowhere')");
  EXPECT_EQ(error_of(pangu("{name: moge}", "workload: {name: trace}\n")),
            "s.yaml: workload.name: unknown workload; valid: synthetic, trace_counts, trace_tokens (got 'trace')");
}

TEST(ConfigErrors, KLargerThanTheExperts) {
  EXPECT_EQ(error_of(pangu("{name: topk, k: 65}")),
            "s.yaml: setups[1].router.k: exceeds the model's 64 routed experts (got '65')");
}

TEST(ConfigErrors, GroupsMustDivideTheExperts) {
  EXPECT_EQ(error_of(pangu("{name: moge, groups: 7}")),
            "s.yaml: setups[1].router.groups: must divide the model's 64 routed experts (got '7')");
}

TEST(ConfigErrors, AKeyTheRouterDoesNotReadIsRefusedNotIgnored) {
  // moge keeps k / groups experts in EVERY group: a topk_group would silently do nothing.
  EXPECT_EQ(error_of(pangu("{name: moge, groups: 8, topk_group: 3}")),
            "s.yaml: setups[1].router.topk_group: the moge router does not use topk_group; only group_limited keeps "
            "a subset of groups (got '3')");
  // capacity_factor is expert choice's own; token-choice routers are capped by capacity.factor.
  EXPECT_EQ(error_of(pangu("{name: topk, capacity_factor: 1.25}")),
            "s.yaml: setups[1].router.capacity_factor: the topk router does not use capacity_factor; token-choice "
            "routers take the setup's capacity.factor (got '1.25')");
  EXPECT_EQ(error_of(pangu("{name: hash, scoring: sigmoid}")),
            "s.yaml: setups[1].router.scoring: the hash router does not use scoring; remove it (got 'sigmoid')");
  // --set is checked the same way; and values inherited from the model preset are not an error
  // (DeepSeek-V3's preset has topk_group 4, its topk setups simply do not use it).
  EXPECT_EQ(error_of(pangu(), {"setups[1].router.group_score=top2_sum"}),
            "--set: setups[1].router.group_score: the moge router does not use group_score; only group_limited "
            "keeps a subset of groups (got 'top2_sum')");
  EXPECT_EQ(error_of("model: deepseek-v3\nrouter: {name: topk}\n"), "no error");
  EXPECT_EQ(error_of(pangu("{name: group_limited, groups: 8, topk_group: 4}")), "no error");
}

TEST(ConfigErrors, RouterSpecificConstraintsComeFromTheRoutersValidate) {
  try {
    parse(pangu("{name: moge, groups: 8, k: 4}"));  // MoGE needs k to be a multiple of groups
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "s.yaml");
    EXPECT_EQ(e.key(), "setups[1].router.k");
    EXPECT_EQ(e.value(), "4");
  }
}

TEST(ConfigErrors, WrongTypesAndNegativeCounts) {
  EXPECT_EQ(error_of(pangu("{name: topk, k: eight}")),
            "s.yaml: setups[1].router.k: expected a positive integer (got 'eight')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\ncluster: {devices: -8}\n"),
            "s.yaml: cluster.devices: expected a positive integer (got '-8')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {steps: 0}\n"),
            "s.yaml: run.steps: expected a positive integer (got '0')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {tokens_per_step: 1.5}\n"),
            "s.yaml: run.tokens_per_step: expected a positive integer (got '1.5')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {seed: -1}\n"),
            "s.yaml: run.seed: expected an unsigned 64-bit integer (got '-1')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nworkload: {sequence_correlation: 1.5}\n"),
            "s.yaml: workload.sequence_correlation: expected a number in [0, 1] (got '1.5')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nworkload: {popularity: pareto}\n"),
            "s.yaml: workload.popularity: expected one of: uniform, zipf, lognormal (got 'pareto')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrouter: {normalize: maybe}\n"),
            "s.yaml: router.normalize: expected true or false (got 'maybe')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrouter: [topk]\n"), "s.yaml: router: expected a mapping (got '[topk]')");
}

TEST(ConfigErrors, ScenarioLevelChecks) {
  EXPECT_EQ(error_of("model: pangu-pro-moe\nrun: {layers: 49}\n"),
            "s.yaml: run.layers: exceeds the model's 48 MoE layers (got '49')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nsetups:\n  - {name: a}\n  - {name: a}\n"),
            "s.yaml: setups[1].name: duplicate setup name (got 'a')");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nsetups:\n  - {router: {k: 4}}\n"),
            "s.yaml: setups[0].name: missing required key (the setup's name)");
  EXPECT_EQ(error_of("run: {steps: 4}\n"),
            "s.yaml: model: missing required key (a model preset name or a mapping)");
  EXPECT_EQ(error_of("model: pangu-pro-moe\nplacement: {name: explicit, device_of_expert: [0, 1, 8]}\n"),
            "s.yaml: placement.device_of_expert[2]: expected a device id in [0, 8) (got '8')");
  EXPECT_EQ(error_of("model: mixtral-8x7b\nplacement: {name: explicit, device_of_expert: [0, 1]}\n"),
            "s.yaml: placement.device_of_expert: expected 8 entries, one device per routed expert (got '[0, 1]')");
}

TEST(ConfigErrors, MissingPresetListsTheAvailableOnes) {
  // The list names every preset in configs/models, sorted.
  std::string available;
  for (const auto& p : moesim::list_presets("models", {kConfigs})) available += (available.empty() ? "" : ", ") + p.name;
  EXPECT_NE(available.find("deepseek-v3, "), std::string::npos);
  EXPECT_EQ(error_of("model: pangu-ultra\n"),
            "s.yaml: model: no such model preset; available: " + available + " (got 'pangu-ultra')");
  EXPECT_EQ(error_of("model: {preset: ../etc/passwd}\n"),
            "s.yaml: model.preset: no such model preset; available: " + available + " (got '../etc/passwd')");
}

TEST(ConfigErrors, InlineModelIsValidated) {
  EXPECT_EQ(error_of("model: {preset: mixtral-8x7b, top_k: 9}\n"),
            "s.yaml: model.top_k: exceeds num_experts (8) (got '9')");
  EXPECT_EQ(error_of("model: {num_experts: 8, top_k: 2}\n"),
            "s.yaml: model.num_layers: missing required key (transformer blocks, a positive integer)");
  EXPECT_EQ(error_of("model: {preset: mixtral-8x7b, experts: 9}\n").substr(0, 48),
            "s.yaml: model.experts: unknown key; valid keys: ");
}

TEST(ConfigErrors, BadSetPath) {
  EXPECT_EQ(error_of(pangu(), {"setups[1].router.kk=4"}),
            "--set: setups[1].router.kk: unknown key; valid keys: " + kRouterKeys + " (got 'setups[1].router.kk=4')");
  EXPECT_EQ(error_of(pangu(), {"runs.steps=4"}),
            "--set: runs: unknown key; valid keys: " + kTopKeys + " (got 'runs.steps=4')");
  EXPECT_EQ(error_of(pangu(), {"setups[2].router.k=4"}),
            "--set: setups[2]: index out of range; the list has 2 entries (got 'setups[2].router.k=4')");
  EXPECT_EQ(error_of(pangu(), {"run.steps"}), "--set: expected key.path=value (got 'run.steps')");
  EXPECT_EQ(error_of(pangu(), {"run.steps.x=1"}),
            "--set: run.steps: is a single value; it has no keys (got 'run.steps.x=1')");
  EXPECT_EQ(error_of(pangu(), {"setups[1.router.k=1"}),
            "--set: setups[1.router.k: malformed key path (expected key.key[index].key) (got 'setups[1.router.k=1')");
}

TEST(ConfigErrors, ABadValueFromSetBlamesTheOverride) {
  EXPECT_EQ(error_of(pangu(), {"setups.1.router.k=eight"}),
            "--set: setups[1].router.k: expected a positive integer (got 'eight')");
  EXPECT_EQ(error_of(pangu(), {"model.top_k=65"}), "--set: model.top_k: exceeds num_experts (64) (got '65')");
  // A relation broken by the override, with the other key from the preset: the override is what to
  // change, so it is blamed, and the message says where the other value came from.
  const std::string preset = kConfigs + "/models/pangu-pro-moe.yaml";
  EXPECT_EQ(error_of(pangu(), {"model.num_experts=60"}),
            "--set: model.num_experts: must be a multiple of num_groups (num_groups 8, from " + preset + ") (got '60')");
  EXPECT_EQ(error_of("model: deepseek-v3\n", {"model.num_layers=2"}),
            "--set: model.num_layers: is below first_dense_layers (first_dense_layers 3, from " + kConfigs +
                "/models/deepseek-v3.yaml) (got '2')");
  EXPECT_EQ(error_of(pangu(), {"model.num_groups=5"}), "--set: model.num_groups: must divide num_experts (64) (got '5')");
}

TEST(ConfigErrors, MissingFile) {
  try {
    moesim::load_scenario("/nonexistent/scenario.yaml", options(), moesim::builtin_registries());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/scenario.yaml: no such file");
  }
}

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

// A list of `n` numbers: "[v0, v1, ...]" with v_e = 0.01 * (e % 5) - 0.02.
std::string bias_list(int n) {
  std::string out = "[";
  for (int e = 0; e < n; ++e) out += (e ? ", " : "") + std::to_string(0.01 * (e % 5) - 0.02);
  return out + "]";
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

TEST(ConfigErrors, GroupScoreAndBias) {
  EXPECT_EQ(error_of(pangu("{name: group_limited, groups: 8, group_score: top3}")),
            "s.yaml: setups[1].router.group_score: expected one of: max, top2_sum (got 'top3')");
  EXPECT_EQ(error_of(pangu("{name: topk, bias: [0.1, 0.2]}")),
            "s.yaml: setups[1].router.bias: expected 64 entries, one per routed expert, not 2 (got '[0.1, 0.2]')");
  EXPECT_EQ(error_of(pangu("{name: topk, bias: [0.1, x]}")),
            "s.yaml: setups[1].router.bias[1]: expected a number (got 'x')");
  EXPECT_EQ(error_of(pangu("{name: topk, bias: [1e39]}")),
            "s.yaml: setups[1].router.bias[0]: expected a number within the fp32 range (got '1e39')");
  EXPECT_EQ(error_of(pangu("{name: topk, bias: 0.5}")),
            "s.yaml: setups[1].router.bias: expected a list of numbers, one per routed expert (got '0.5')");
  EXPECT_EQ(error_of(pangu("{name: hash, bias: " + bias_list(64) + "}")),
            "s.yaml: setups[1].router.bias: the hash router does not select with a bias; use topk, moge or "
            "group_limited, or leave it out (got '64 entries')");
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
