// HuggingFace config.json import (config/hf_config.cpp). The samples in tests/data/hf are the published
// config.json files (tests/data/hf/README.md cites each); the expectations are those files' values, and
// where a preset exists (configs/models, each citing the same config.json) the import must equal it field by
// field except name, description and source. Errors are asserted by their exact text.
#include "config/hf_config.hpp"
#include "moesim/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

using moesim::Error;
using moesim::ModelSpec;

const std::string kData = std::string(MOESIM_SOURCE_DIR) + "/tests/data/hf/";
const std::string kConfigs = std::string(MOESIM_SOURCE_DIR) + "/configs";

ModelSpec load_hf(const std::string& file) { return moesim::model_from_hf_config(kData + file); }
ModelSpec preset(const std::string& name) { return moesim::load_model_preset(name, {kConfigs}); }

// The exact Error::what() of importing `file` (under tests/data/hf), or "no error".
std::string import_error(const std::string& file) {
  try {
    load_hf(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// The same for JSON text, labelled "c.json".
std::string json_error(const std::string& text) {
  try {
    moesim::config::model_from_hf_json(text, "c.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Every architecture field; name, description and source are identity, not architecture.
void expect_same_architecture(const ModelSpec& a, const ModelSpec& b) {
#define MOESIM_SAME(field) EXPECT_EQ(a.field, b.field) << #field
  MOESIM_SAME(num_layers); MOESIM_SAME(first_dense_layers); MOESIM_SAME(hidden); MOESIM_SAME(vocab);
  MOESIM_SAME(attention); MOESIM_SAME(num_heads); MOESIM_SAME(num_kv_heads); MOESIM_SAME(head_dim);
  MOESIM_SAME(q_lora_rank); MOESIM_SAME(kv_lora_rank); MOESIM_SAME(qk_nope_head_dim); MOESIM_SAME(qk_rope_head_dim);
  MOESIM_SAME(v_head_dim); MOESIM_SAME(dense_intermediate); MOESIM_SAME(num_experts); MOESIM_SAME(top_k);
  MOESIM_SAME(num_groups); MOESIM_SAME(topk_group); MOESIM_SAME(num_shared_experts); MOESIM_SAME(shared_intermediate);
  MOESIM_SAME(moe_intermediate); MOESIM_SAME(scoring); MOESIM_SAME(group_score); MOESIM_SAME(norm_topk_prob);
  MOESIM_SAME(routed_scaling_factor); MOESIM_SAME(router);
#undef MOESIM_SAME
}

// ---- families that have a preset: the import equals it ------------------------------------------

TEST(HfConfig, DeepSeekV3EqualsThePreset) {
  const ModelSpec m = load_hf("deepseek-v3.json");
  expect_same_architecture(m, preset("deepseek-v3"));
  EXPECT_EQ(m.name, "deepseek-v3");
  EXPECT_EQ(m.source, "HuggingFace config.json " + kData + "deepseek-v3.json");
  EXPECT_EQ(m.description, "DeepSeek-V3 (DeepseekV3ForCausalLM) imported from " + kData +
                               "deepseek-v3.json: 256 routed experts, top-8, 1 shared, 3 dense blocks; "
                               "num_nextn_predict_layers 1 (MTP modules, not in num_layers)");
}

TEST(HfConfig, DeepSeekR1EqualsThePreset) { expect_same_architecture(load_hf("deepseek-r1.json"), preset("deepseek-r1")); }

TEST(HfConfig, Qwen3MoeEqualsThePreset) {
  expect_same_architecture(load_hf("qwen3-30b-a3b.json"), preset("qwen3-30b-a3b"));
}

TEST(HfConfig, MixtralEqualsThePreset) {
  // intermediate_size is each expert's size (moe_intermediate); Mixtral has no dense FFN.
  expect_same_architecture(load_hf("mixtral-8x7b.json"), preset("mixtral-8x7b"));
}

TEST(HfConfig, PanguProMoeEqualsThePreset) {
  // 8 MoGE groups from the model code; shared_expert_intermediate_size 5376 = 4 shared experts x 1344.
  const ModelSpec m = load_hf("pangu-pro-moe.json");
  expect_same_architecture(m, preset("pangu-pro-moe"));
  EXPECT_EQ(m.router, "moge");
  EXPECT_EQ(m.num_groups, 8);
}

TEST(HfConfig, LingLiteEqualsThePresetButForTheUnusedDenseSize) {
  // Ling-lite's config.json says intermediate_size 1408; with first_k_dense_replace 0 no block uses it,
  // and the preset writes 0. Everything else agrees (it confirms the preset's first_dense_layers 0 and
  // norm_topk_prob true, which the preset marks as not re-checked).
  ModelSpec m = load_hf("ling-lite.json");
  EXPECT_EQ(m.dense_intermediate, 1408);
  m.dense_intermediate = 0;
  expect_same_architecture(m, preset("ling-lite"));
}

TEST(HfConfig, LlamaEqualsThePreset) {
  const ModelSpec m = load_hf("llama-3.1-70b.json");
  expect_same_architecture(m, preset("llama-3.1-70b"));
  EXPECT_FALSE(m.is_moe());
  EXPECT_EQ(m.moe_layers(), 0);
}

// ---- families without a preset: the config.json values ------------------------------------------

TEST(HfConfig, DeepSeekV2LiteGreedyWithoutQueryCompression) {
  const ModelSpec m = load_hf("deepseek-v2-lite.json");
  EXPECT_EQ(m.num_layers, 27);
  EXPECT_EQ(m.first_dense_layers, 1);  // first_k_dense_replace
  EXPECT_EQ(m.attention, moesim::AttentionKind::mla);
  EXPECT_EQ(m.q_lora_rank, 0);  // null
  EXPECT_EQ(m.kv_lora_rank, 512);
  EXPECT_EQ(m.num_heads, 16);
  EXPECT_EQ(m.dense_intermediate, 10944);
  EXPECT_EQ(m.num_experts, 64);
  EXPECT_EQ(m.top_k, 6);
  EXPECT_EQ(m.router, "topk");  // topk_method greedy: n_group 1 / topk_group 1 are unused
  EXPECT_EQ(m.num_groups, 1);
  EXPECT_EQ(m.topk_group, 0);
  EXPECT_EQ(m.num_shared_experts, 2);
  EXPECT_EQ(m.shared_intermediate, 1408);
  EXPECT_EQ(m.moe_intermediate, 1408);
  EXPECT_EQ(m.scoring, moesim::ScoringFunc::softmax);
  EXPECT_FALSE(m.norm_topk_prob);
  EXPECT_EQ(m.routed_scaling_factor, 1.0);
  EXPECT_EQ(m.vocab, 102400);
}

TEST(HfConfig, DeepSeekV25GroupLimitedGreedy) {
  const ModelSpec m = load_hf("deepseek-v2.5.json");
  EXPECT_EQ(m.router, "group_limited");
  EXPECT_EQ(m.group_score, moesim::GroupScore::max);  // group_limited_greedy scores a group by its max
  EXPECT_EQ(m.num_groups, 8);
  EXPECT_EQ(m.topk_group, 3);
  EXPECT_EQ(m.num_experts, 160);
  EXPECT_EQ(m.top_k, 6);
  EXPECT_EQ(m.scoring, moesim::ScoringFunc::softmax);
  EXPECT_EQ(m.routed_scaling_factor, 16.0);
  EXPECT_EQ(m.q_lora_rank, 1536);
  EXPECT_EQ(m.moe_layers(), 59);
}

TEST(HfConfig, Qwen2MoeHasOneSharedExpertOfItsOwnSize) {
  const ModelSpec m = load_hf("qwen1.5-moe-a2.7b.json");
  EXPECT_EQ(m.num_layers, 24);
  EXPECT_EQ(m.first_dense_layers, 0);
  EXPECT_EQ(m.num_kv_heads, 16);
  EXPECT_EQ(m.head_dim, 128);  // 2048 / 16: no head_dim key
  EXPECT_EQ(m.num_experts, 60);
  EXPECT_EQ(m.top_k, 4);
  EXPECT_EQ(m.num_shared_experts, 1);
  EXPECT_EQ(m.shared_intermediate, 5632);
  EXPECT_EQ(m.moe_intermediate, 1408);
  EXPECT_EQ(m.dense_intermediate, 5632);
  EXPECT_FALSE(m.norm_topk_prob);
  EXPECT_EQ(m.router, "topk");
}

TEST(HfConfig, DenseLlamaAndQwen) {
  const ModelSpec l = load_hf("llama-3.1-8b.json");
  EXPECT_EQ(l.num_experts, 0);
  EXPECT_EQ(l.num_layers, 32);
  EXPECT_EQ(l.num_kv_heads, 8);
  EXPECT_EQ(l.head_dim, 128);
  EXPECT_EQ(l.dense_intermediate, 14336);
  const ModelSpec q = load_hf("qwen2.5-7b.json");
  EXPECT_EQ(q.num_experts, 0);
  EXPECT_EQ(q.head_dim, 128);  // 3584 / 28
  EXPECT_EQ(q.num_kv_heads, 4);
  EXPECT_EQ(q.dense_intermediate, 18944);
  EXPECT_EQ(q.vocab, 152064);
  const ModelSpec q3 = load_hf("qwen3-8b.json");
  EXPECT_EQ(q3.num_layers, 36);
  EXPECT_EQ(q3.dense_intermediate, 12288);
  EXPECT_EQ(q3.description, "Qwen3 (Qwen3ForCausalLM) imported from " + kData + "qwen3-8b.json: dense, 36 blocks");
}

// ---- dense blocks that do not lead the stack: counted into first_dense_layers ----------------

TEST(HfConfig, QwenSparseStepAndMlpOnlyLayersCountDenseBlocks) {
  // 8 blocks, decoder_sparse_step 2 -> MoE at 1, 3, 5, 7; mlp_only_layers [3] -> MoE at 1, 5, 7.
  const ModelSpec m = load_hf("synthetic-qwen2-moe-sparse-step.json");
  EXPECT_EQ(m.first_dense_layers, 5);
  EXPECT_EQ(m.moe_layers(), 3);
  EXPECT_NE(m.description.find("its 5 dense blocks are not all leading (decoder_sparse_step 2, mlp_only_layers [3])"),
            std::string::npos)
      << m.description;
}

TEST(HfConfig, DeepSeekMoeLayerFreqCountsDenseBlocks) {
  // 10 blocks, first_k_dense_replace 1, moe_layer_freq 2 -> MoE at 2, 4, 6, 8.
  const ModelSpec m = load_hf("synthetic-deepseek-v2-moe-layer-freq.json");
  EXPECT_EQ(m.first_dense_layers, 6);
  EXPECT_EQ(m.moe_layers(), 4);
}

TEST(HfConfig, NameComesFromTheModelDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / "moesim-hf-test" / "My-Model";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kData + "mixtral-8x7b.json", dir / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(moesim::model_from_hf_config((dir / "config.json").string()).name, "My-Model");
}

// ---- errors -----------------------------------------------------------------------------------

const std::string kSupported =
    "DeepseekV2ForCausalLM, DeepseekV3ForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, MixtralForCausalLM, "
    "PanguProMoEForCausalLM, BailingMoeForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";

TEST(HfConfigErrors, MalformedFilesGiveExactMessages) {
  EXPECT_EQ(import_error("bad/missing-key.json"),
            kData + "bad/missing-key.json: num_experts_per_tok: missing required key for Qwen3-MoE (Qwen3MoeForCausalLM)");
  EXPECT_EQ(import_error("bad/wrong-type.json"),
            kData + "bad/wrong-type.json: num_local_experts: expected a positive integer (got 'eight')");
  EXPECT_EQ(import_error("bad/unknown-architecture.json"),
            kData + "bad/unknown-architecture.json: architectures: unknown architecture; supported: " + kSupported +
                "; a config needs: architectures (or model_type), num_hidden_layers, hidden_size, "
                "num_attention_heads, vocab_size, intermediate_size and, for an MoE family, the routed experts "
                "(n_routed_experts, num_experts or num_local_experts), num_experts_per_tok and moe_intermediate_size "
                "(got 'GptOssForCausalLM')");
  EXPECT_EQ(import_error("bad/not-json.json"),
            kData + "bad/not-json.json: byte 1: not JSON: parse error at line 1, column 1: syntax error while parsing "
                    "value - invalid literal; last read: 'a'");
  EXPECT_EQ(import_error("nonexistent.json"), kData + "nonexistent.json: no such file");
}

TEST(HfConfigErrors, TypesValuesAndRoutingKeys) {
  const std::string mixtral =
      R"("architectures": ["MixtralForCausalLM"], "num_hidden_layers": 32, "hidden_size": 4096, )"
      R"("num_attention_heads": 32, "vocab_size": 32000, "intermediate_size": 14336)";
  EXPECT_EQ(json_error("{" + mixtral + R"(, "num_local_experts": 8, "num_experts_per_tok": 9})"),
            "c.json: num_experts_per_tok: exceeds the routed experts (num_local_experts 8) (got '9')");
  EXPECT_EQ(json_error("{" + mixtral + R"(, "num_local_experts": 8.0, "num_experts_per_tok": 2})"),
            "c.json: num_local_experts: expected a positive integer (got '8.0')");
  EXPECT_EQ(json_error("{" + mixtral + R"(, "num_local_experts": -8, "num_experts_per_tok": 2})"),
            "c.json: num_local_experts: expected a positive integer (got '-8')");
  EXPECT_EQ(json_error("[1, 2]"), "c.json: expected a JSON object (a HuggingFace config.json) (got '[1,2]')");
  EXPECT_EQ(json_error(R"({"hidden_size": 8})"),
            "c.json: architectures: missing required key (or model_type); supported: " + kSupported);
  EXPECT_EQ(json_error(R"({"architectures": "LlamaForCausalLM"})"),
            "c.json: architectures: expected a list of architecture names (got 'LlamaForCausalLM')");
  // model_type is the fallback when architectures is absent.
  EXPECT_EQ(json_error(R"({"model_type": "llama", "num_hidden_layers": 2})"),
            "c.json: hidden_size: missing required key for Llama (LlamaForCausalLM)");
}

TEST(HfConfigErrors, DeepSeekRoutingKeys) {
  std::ifstream in(kData + "deepseek-v3.json");
  const std::string v3((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto with = [&](const std::string& key, const std::string& value) {
    std::string text = v3;
    const size_t at = text.find("\"" + key + "\": ");
    const size_t end = text.find_first_of(",\n", at + key.size() + 4);
    return text.replace(at, end - at, "\"" + key + "\": " + value);
  };
  EXPECT_EQ(json_error(with("topk_method", "\"aux_free\"")),
            "c.json: topk_method: unsupported; supported: greedy, group_limited_greedy, noaux_tc (got 'aux_free')");
  EXPECT_EQ(json_error(with("scoring_func", "\"tanh\"")),
            "c.json: scoring_func: unsupported scoring function; supported: softmax, sigmoid (got 'tanh')");
  EXPECT_EQ(json_error(with("n_group", "7")), "c.json: n_group: must divide n_routed_experts (256) (got '7')");
  EXPECT_EQ(json_error(with("topk_group", "9")), "c.json: topk_group: exceeds n_group (8) (got '9')");
  EXPECT_EQ(json_error(with("norm_topk_prob", "1")), "c.json: norm_topk_prob: expected true or false (got '1')");
  EXPECT_EQ(json_error(with("q_lora_rank", "0")), "c.json: q_lora_rank: expected a positive integer (got '0')");
  EXPECT_EQ(json_error(with("first_k_dense_replace", "62")),
            "c.json: first_k_dense_replace: exceeds num_hidden_layers (61) (got '62')");
}

// ---- scenarios: model: {hf_config: ...} and LoadOptions::model_file ----------------------------

moesim::ScenarioSpec parse_in_data_dir(const std::string& text, const std::string& model_file = "") {
  moesim::LoadOptions opt;
  opt.preset_dirs = {kConfigs};
  opt.model_file = model_file;
  // Labelled as a file in tests/data/hf, so that hf_config paths resolve against that directory.
  return moesim::parse_scenario(text, kData + "s.yaml", opt, moesim::builtin_registries());
}

TEST(HfConfigScenario, ModelFromHfConfigRelativeToTheScenario) {
  const auto s = parse_in_data_dir("model: {hf_config: deepseek-v3.json}\nrun: {steps: 2, tokens_per_step: 16}\n");
  expect_same_architecture(s.model, preset("deepseek-v3"));
  EXPECT_EQ(s.setups[0].router.name, "group_limited");
  EXPECT_EQ(s.setups[0].router.groups, 8);
  EXPECT_EQ(s.setups[0].router.topk_group, 4);
}

TEST(HfConfigScenario, ModelKeysOverrideTheImport) {
  const auto s = parse_in_data_dir("model: {hf_config: qwen3-30b-a3b.json, top_k: 4, num_layers: 12}\n");
  EXPECT_EQ(s.model.top_k, 4);
  EXPECT_EQ(s.model.moe_layers(), 12);
  EXPECT_EQ(s.model.num_experts, 128);
  EXPECT_EQ(s.setups[0].router.k, 4);
}

TEST(HfConfigScenario, Errors) {
  const auto error = [](const std::string& text) {
    try {
      parse_in_data_dir(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("model: {hf_config: mixtral-8x7b.json, preset: mixtral-8x7b}\n"),
            kData + "s.yaml: model.hf_config: cannot be combined with preset: the model starts from one of them");
  EXPECT_EQ(error("model: {hf_config: bad/missing-key.json}\n"),
            kData + "bad/missing-key.json: num_experts_per_tok: missing required key for Qwen3-MoE (Qwen3MoeForCausalLM)");
  EXPECT_EQ(error("model: {hf_config: mixtral-8x7b.json, top_k: 9}\n"),
            kData + "s.yaml: model.top_k: exceeds num_experts (8) (got '9')");
}

TEST(HfConfigScenario, ModelFileReplacesTheScenariosModel) {
  const auto s = parse_in_data_dir("model: pangu-pro-moe\nrun: {steps: 2, tokens_per_step: 16}\n",
                                   kData + "deepseek-v2-lite.json");
  EXPECT_EQ(s.model.name, "deepseek-v2-lite");
  EXPECT_EQ(s.setups[0].router.name, "topk");
  EXPECT_EQ(s.setups[0].router.k, 6);
  EXPECT_EQ(s.setups[0].router.num_experts, 64);
  // The file's model key is not read at all: absent is fine.
  EXPECT_EQ(parse_in_data_dir("run: {steps: 2}\n", kData + "mixtral-8x7b.json").model.num_experts, 8);
}

}  // namespace
