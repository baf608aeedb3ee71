// config/: YAML scenario files, presets and --set overrides -> ScenarioSpec: the errors, asserted by their
// exact text (what a user reads is part of the interface; what valid files load as: test_config_load.cpp).
#include "support/scenario_text.hpp"

#include <gtest/gtest.h>

namespace {

using namespace moesim::test;

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

}  // namespace
