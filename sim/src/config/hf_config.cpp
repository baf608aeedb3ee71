// HuggingFace config.json -> ModelSpec. Key names, and the defaults of absent (or null) keys, follow each
// family's config class:
//  [DS2] deepseek-ai/DeepSeek-V2 configuration_deepseek.py: n_shared_experts, n_group, topk_group None,
//        first_k_dense_replace 0, moe_layer_freq 1, norm_topk_prob False, scoring_func 'softmax',
//        routed_scaling_factor 1.0, topk_method greedy (which ignores n_group / topk_group).
//        modeling_deepseek.py: block i is MoE iff i >= first_k_dense_replace and i % moe_layer_freq == 0;
//        the shared experts are one MLP of n_shared_experts x moe_intermediate_size.
//  [DS3] deepseek-ai/DeepSeek-V3 configuration_deepseek.py: n_shared_experts 1, n_group 8, topk_group 4,
//        first_k_dense_replace 3, norm_topk_prob True, scoring_func 'sigmoid', routed_scaling_factor 2.5,
//        topk_method 'noaux_tc' (its bias e_score_correction_bias is a weight, not a key: give a measured one
//        as router.bias). modeling_deepseek.py: noaux_tc scores a group by the sum of its top-2
//        bias-corrected scores (group_score top2_sum), V2's group_limited_greedy by its max (max).
//  [Q2][Q3] transformers Qwen2MoeConfig / Qwen3MoeConfig: decoder_sparse_step 1, mlp_only_layers [],
//        norm_topk_prob False; block i is MoE iff i is not in mlp_only_layers and
//        (i + 1) % decoder_sparse_step == 0. Qwen2-MoE adds one gated shared expert of
//        shared_expert_intermediate_size; Qwen3-MoE has none.
//  [MX]  transformers MixtralConfig: intermediate_size is each expert's; softmax top-k renormalised
//        (arXiv 2401.04088 section 2.1).
//  [PG]  PanguProMoEConfig (ascend-tribe pangu-pro-moe configuration_pangu_moe.py, model_type "PanguProMoE",
//        as vLLM-Ascend reads it): no group key, the model code hard-codes 8 MoGE groups; arXiv 2505.21411:
//        4 shared experts fused into one MLP of shared_expert_intermediate_size 5376 = 4 x 1344.
//  [BL]  inclusionAI Ling configuration_bailing_moe.py (BailingMoeConfig, as vLLM copies it):
//        num_shared_experts 0, norm_topk_prob True, first_k_dense_replace 0; the shared experts are one
//        MLP of num_shared_experts x moe_intermediate_size.
//  [LL]  transformers LlamaConfig / Qwen2Config / Qwen3Config (and [BL]): num_key_value_heads defaults to
//        num_attention_heads, head_dim to hidden_size / num_attention_heads.
#include "config/hf_config.hpp"

#include "config/hf_reader.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"
#include "moesim/error.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace moesim::config {
namespace {

using hf::HfReader;
using hf::Json;
using hf::value_text;

ModelSpec read_common(const HfReader& r) {
  ModelSpec m;
  m.num_layers = r.positive("num_hidden_layers");
  m.hidden = r.positive("hidden_size");
  m.vocab = r.positive("vocab_size");
  m.num_heads = r.positive("num_attention_heads");
  return m;
}

// [LL][BL]: grouped-query attention with the Llama defaults.
void read_gqa(const HfReader& r, ModelSpec& m) {
  m.attention = AttentionKind::gqa;
  m.num_kv_heads = r.positive_or("num_key_value_heads", m.num_heads);
  m.head_dim = r.positive_or("head_dim", m.hidden / m.num_heads);
}

void read_routed(const HfReader& r, ModelSpec& m, const std::string& experts_key, const std::string& size_key) {
  m.num_experts = r.positive(experts_key);
  m.top_k = r.positive("num_experts_per_tok");
  m.moe_intermediate = r.positive(size_key);
  if (m.top_k > m.num_experts)
    r.fail("num_experts_per_tok", std::to_string(m.top_k),
           "exceeds the routed experts (" + experts_key + " " + std::to_string(m.num_experts) + ")");
}

ScoringFunc read_scoring(const HfReader& r, const std::string& fallback) {
  const std::string s = r.text_or("scoring_func", fallback);
  if (s == "softmax") return ScoringFunc::softmax;
  if (s == "sigmoid") return ScoringFunc::sigmoid;
  r.fail("scoring_func", s, "unsupported scoring function; supported: softmax, sigmoid");
}

// Sets first_dense_layers to the number of dense blocks in `is_moe` (one entry per block). ModelSpec
// has no per-block pattern: every consumer (run.layers, the cost model) uses only the counts, so dense
// blocks that do not lead the stack are counted as if they did, and the description says so.
std::string apply_block_pattern(ModelSpec& m, const std::vector<bool>& is_moe, const std::string& rule) {
  int dense = 0;
  bool leading = true;
  for (size_t i = 0; i < is_moe.size(); ++i) {
    if (is_moe[i]) continue;
    leading = leading && static_cast<int>(i) == dense;
    ++dense;
  }
  m.first_dense_layers = dense;
  if (leading) return "";
  return "; its " + std::to_string(dense) + " dense blocks are not all leading (" + rule +
         "): counted as first_dense_layers, as only the number of MoE blocks matters here";
}

void check_first_dense(const HfReader& r, const ModelSpec& m, int first_k) {
  if (first_k > m.num_layers)
    r.fail("first_k_dense_replace", std::to_string(first_k),
           "exceeds num_hidden_layers (" + std::to_string(m.num_layers) + ")");
}

void set_description(ModelSpec& m, const HfReader& r, const std::string& notes) {
  std::string d = r.family() + " imported from " + r.path() + ": ";
  if (!m.is_moe()) {
    d += "dense, " + std::to_string(m.num_layers) + " blocks";
  } else {
    d += std::to_string(m.num_experts) + " routed experts, top-" + std::to_string(m.top_k);
    if (m.num_shared_experts > 0) d += ", " + std::to_string(m.num_shared_experts) + " shared";
    if (m.first_dense_layers > 0) d += ", " + std::to_string(m.first_dense_layers) + " dense blocks";
  }
  m.description = d + notes;
}

// ---- families ----------------------------------------------------------------------------------

struct DeepSeekDefaults {
  const char* topk_method;
  int n_group, topk_group, n_shared_experts, first_k_dense_replace;
  bool norm_topk_prob;
  const char* scoring_func;
  double routed_scaling_factor;
};
constexpr DeepSeekDefaults kDeepSeekV2{"greedy", 1, 0, 0, 0, false, "softmax", 1.0};  // [DS2] (None: 1 group, all kept)
constexpr DeepSeekDefaults kDeepSeekV3{"noaux_tc", 8, 4, 1, 3, true, "sigmoid", 2.5};  // [DS3]

void read_deepseek_routing(const HfReader& r, ModelSpec& m, const DeepSeekDefaults& d) {
  m.scoring = read_scoring(r, d.scoring_func);
  m.norm_topk_prob = r.flag_or("norm_topk_prob", d.norm_topk_prob);
  m.routed_scaling_factor = r.factor_or("routed_scaling_factor", d.routed_scaling_factor);
  const std::string method = r.text_or("topk_method", d.topk_method);
  if (method == "greedy") return;  // plain top-k over all experts; n_group and topk_group unused
  if (method != "group_limited_greedy" && method != "noaux_tc")
    r.fail("topk_method", method, "unsupported; supported: greedy, group_limited_greedy, noaux_tc");
  m.router = "group_limited";
  m.group_score = method == "noaux_tc" ? GroupScore::top2_sum : GroupScore::max;
  m.num_groups = r.positive_or("n_group", d.n_group);
  m.topk_group = r.count_or("topk_group", d.topk_group);
  if (m.num_experts % m.num_groups != 0)
    r.fail("n_group", std::to_string(m.num_groups),
           "must divide n_routed_experts (" + std::to_string(m.num_experts) + ")");
  if (m.topk_group > m.num_groups)
    r.fail("topk_group", std::to_string(m.topk_group), "exceeds n_group (" + std::to_string(m.num_groups) + ")");
}

ModelSpec map_deepseek(const HfReader& r, const DeepSeekDefaults& d) {
  ModelSpec m = read_common(r);
  m.attention = AttentionKind::mla;
  m.q_lora_rank = r.positive_or_null("q_lora_rank");
  m.kv_lora_rank = r.positive("kv_lora_rank");
  m.qk_nope_head_dim = r.positive("qk_nope_head_dim");
  m.qk_rope_head_dim = r.positive("qk_rope_head_dim");
  m.v_head_dim = r.positive("v_head_dim");
  m.dense_intermediate = r.positive("intermediate_size");
  read_routed(r, m, "n_routed_experts", "moe_intermediate_size");
  m.num_shared_experts = r.count_or("n_shared_experts", d.n_shared_experts);
  m.shared_intermediate = m.num_shared_experts > 0 ? m.moe_intermediate : 0;
  read_deepseek_routing(r, m, d);
  const int first_k = r.count_or("first_k_dense_replace", d.first_k_dense_replace);
  const int freq = r.positive_or("moe_layer_freq", 1);
  check_first_dense(r, m, first_k);
  std::vector<bool> is_moe(m.num_layers);
  for (int i = 0; i < m.num_layers; ++i) is_moe[i] = i >= first_k && i % freq == 0;
  std::string notes = apply_block_pattern(m, is_moe, "moe_layer_freq " + std::to_string(freq));
  if (const int mtp = r.count_or("num_nextn_predict_layers", 0); mtp > 0)
    notes += "; num_nextn_predict_layers " + std::to_string(mtp) + " (MTP modules, not in num_layers)";
  set_description(m, r, notes);
  return m;
}
ModelSpec map_deepseek_v2(const HfReader& r) { return map_deepseek(r, kDeepSeekV2); }
ModelSpec map_deepseek_v3(const HfReader& r) { return map_deepseek(r, kDeepSeekV3); }
ModelSpec map_qwen_moe(const HfReader& r, bool shared_expert) {
  ModelSpec m = read_common(r);
  read_gqa(r, m);
  m.dense_intermediate = r.positive("intermediate_size");
  read_routed(r, m, "num_experts", "moe_intermediate_size");
  if (shared_expert) {  // [Q2]
    m.num_shared_experts = 1;
    m.shared_intermediate = r.positive("shared_expert_intermediate_size");
  }
  m.norm_topk_prob = r.flag_or("norm_topk_prob", false);
  const int step = r.positive_or("decoder_sparse_step", 1);
  const std::vector<int> mlp_only = r.layer_list("mlp_only_layers", m.num_layers);
  std::vector<bool> is_moe(m.num_layers);
  for (int i = 0; i < m.num_layers; ++i) is_moe[i] = (i + 1) % step == 0;
  for (int i : mlp_only) is_moe[i] = false;
  std::string rule = "decoder_sparse_step " + std::to_string(step) + ", mlp_only_layers [";
  for (size_t i = 0; i < mlp_only.size(); ++i) rule += (i ? ", " : "") + std::to_string(mlp_only[i]);
  rule += "]";
  set_description(m, r, apply_block_pattern(m, is_moe, rule));
  return m;
}
ModelSpec map_qwen2_moe(const HfReader& r) { return map_qwen_moe(r, true); }
ModelSpec map_qwen3_moe(const HfReader& r) { return map_qwen_moe(r, false); }
ModelSpec map_mixtral(const HfReader& r) {  // [MX]
  ModelSpec m = read_common(r);
  read_gqa(r, m);
  read_routed(r, m, "num_local_experts", "intermediate_size");
  m.norm_topk_prob = true;
  set_description(m, r, "");
  return m;
}

ModelSpec map_pangu(const HfReader& r) {  // [PG]
  constexpr int kMogeGroups = 8;
  ModelSpec m = read_common(r);
  read_gqa(r, m);
  read_routed(r, m, "num_experts", "moe_intermediate_size");
  const int shared = r.positive("shared_expert_intermediate_size");
  // The fused shared MLP counts as shared / moe_intermediate_size experts of the routed size when it divides.
  const bool divides = shared % m.moe_intermediate == 0;
  m.num_shared_experts = divides ? shared / m.moe_intermediate : 1;
  m.shared_intermediate = divides ? m.moe_intermediate : shared;
  m.num_groups = kMogeGroups;
  m.router = "moge";
  for (const auto& [key, value] : {std::pair{"num_experts", m.num_experts}, {"num_experts_per_tok", m.top_k}})
    if (value % kMogeGroups != 0) r.fail(key, std::to_string(value), "must be a multiple of the 8 MoGE groups");
  set_description(m, r, "; 8 MoGE groups (fixed in the model code)");
  return m;
}

ModelSpec map_bailing(const HfReader& r) {  // [BL]
  ModelSpec m = read_common(r);
  read_gqa(r, m);
  m.dense_intermediate = r.count_or("intermediate_size", 0);
  read_routed(r, m, "num_experts", "moe_intermediate_size");
  m.num_shared_experts = r.count_or("num_shared_experts", 0);
  m.shared_intermediate = m.num_shared_experts > 0 ? m.moe_intermediate : 0;
  m.norm_topk_prob = r.flag_or("norm_topk_prob", true);
  m.first_dense_layers = r.count_or("first_k_dense_replace", 0);
  check_first_dense(r, m, m.first_dense_layers);
  set_description(m, r, "");
  return m;
}

ModelSpec map_dense(const HfReader& r) {  // [LL]
  ModelSpec m = read_common(r);
  read_gqa(r, m);
  m.dense_intermediate = r.positive("intermediate_size");
  set_description(m, r, "");
  return m;
}

struct Family {
  std::string_view arch;        // architectures[0]
  std::string_view model_type;  // used when architectures[0] is absent or not listed here
  std::string_view label;
  ModelSpec (*map)(const HfReader&);
};
constexpr std::array<Family, 10> kFamilies = {{
    {"DeepseekV2ForCausalLM", "deepseek_v2", "DeepSeek-V2", map_deepseek_v2},
    {"DeepseekV3ForCausalLM", "deepseek_v3", "DeepSeek-V3", map_deepseek_v3},
    {"Qwen2MoeForCausalLM", "qwen2_moe", "Qwen2-MoE", map_qwen2_moe},
    {"Qwen3MoeForCausalLM", "qwen3_moe", "Qwen3-MoE", map_qwen3_moe},
    {"MixtralForCausalLM", "mixtral", "Mixtral", map_mixtral},
    {"PanguProMoEForCausalLM", "PanguProMoE", "Pangu Pro MoE", map_pangu},
    {"BailingMoeForCausalLM", "bailing_moe", "Ling (BailingMoe)", map_bailing},
    {"LlamaForCausalLM", "llama", "Llama", map_dense},
    {"Qwen2ForCausalLM", "qwen2", "Qwen2", map_dense},
    {"Qwen3ForCausalLM", "qwen3", "Qwen3", map_dense},
}};

std::string supported_list() {
  std::string s;
  for (const auto& f : kFamilies) s += (s.empty() ? "" : ", ") + std::string(f.arch);
  return s;
}

constexpr std::string_view kNeeds =
    "a config needs: architectures (or model_type), num_hidden_layers, hidden_size, num_attention_heads, "
    "vocab_size, intermediate_size and, for an MoE family, the routed experts (n_routed_experts, num_experts "
    "or num_local_experts), num_experts_per_tok and moe_intermediate_size";

const Family* find_by(std::string_view Family::*field, const std::string& name) {
  for (const auto& f : kFamilies)
    if (f.*field == name) return &f;
  return nullptr;
}

const Family& find_family(const Json& root, const std::string& path) {
  std::string key = "architectures", named;
  if (const auto it = root.find("architectures"); it != root.end() && !it->is_null()) {
    if (!it->is_array() || it->empty() || !(*it)[0].is_string())
      throw Error(path, key, value_text(*it), "expected a list of architecture names");
    named = (*it)[0].get<std::string>();
    if (const Family* f = find_by(&Family::arch, named)) return *f;
  }
  if (const auto it = root.find("model_type"); it != root.end() && it->is_string()) {
    if (const Family* f = find_by(&Family::model_type, it->get<std::string>())) return *f;
    if (named.empty()) key = "model_type", named = it->get<std::string>();
  }
  if (named.empty())
    throw Error(path, key, "", "missing required key (or model_type); supported: " + supported_list());
  throw Error(path, key, named,
              "unknown architecture; supported: " + supported_list() + "; " + std::string(kNeeds));
}

std::string model_name(const std::string& path) {
  const fs::path p(path);
  if (p.filename() == "config.json" && !p.parent_path().filename().empty())
    return p.parent_path().filename().string();  // models/DeepSeek-V3/config.json -> DeepSeek-V3
  return p.stem().string();
}

}  // namespace

ModelSpec model_from_hf_json(const std::string& json_text, const std::string& path) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 1, column 1: ..."
    if (const auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw Error(path, "byte " + std::to_string(e.byte), "", "not JSON: " + what);
  }
  if (!root.is_object()) throw Error(path, "", value_text(root), "expected a JSON object (a HuggingFace config.json)");
  const Family& family = find_family(root, path);
  const HfReader reader(root, path, std::string(family.label) + " (" + std::string(family.arch) + ")");
  ModelSpec m = family.map(reader);
  m.name = model_name(path);
  m.source = "HuggingFace config.json " + path;
  return m;
}

}  // namespace moesim::config

namespace moesim {

ModelSpec model_from_hf_config(const std::string& path) {
  return config::model_from_hf_json(config::read_text_file(path), path);
}

}  // namespace moesim
