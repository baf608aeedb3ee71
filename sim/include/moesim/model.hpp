// moesim/model.hpp: the architecture of one MoE (or dense) transformer, as the simulator sees it.
#pragma once

#include <string>

namespace moesim {

// How router logits become expert scores.
enum class ScoringFunc { softmax, sigmoid };
enum class AttentionKind { gqa, mla };
// How group-limited routing scores a group of experts (routing.md section 4): the largest selection key
// of the group (DeepSeek-V2 `group_limited_greedy`), or the sum of its two largest (DeepSeek-V3/R1
// `noaux_tc`, HF modeling_deepseek.py: topk(2).sum over the bias-corrected scores).
enum class GroupScore { max, top2_sum };

const char* to_string(ScoringFunc f);
const char* to_string(GroupScore g);
const char* to_string(AttentionKind a);

// Field names follow the HuggingFace config.json keys where one exists (see configs/README.md).
struct ModelSpec {
  std::string name;         // preset name, e.g. "pangu-pro-moe"
  std::string description;  // one line
  std::string source;       // where the numbers come from (paper, config.json URL)

  int num_layers = 0;          // transformer blocks, dense ones included
  int first_dense_layers = 0;  // leading blocks with a dense FFN instead of MoE (first_k_dense_replace)
  int hidden = 0;              // hidden_size
  int vocab = 0;               // vocab_size

  // Attention.
  AttentionKind attention = AttentionKind::gqa;
  int num_heads = 0;
  int num_kv_heads = 0;  // GQA only
  int head_dim = 0;      // GQA only
  int q_lora_rank = 0;   // MLA only (0: no query compression)
  int kv_lora_rank = 0;  // MLA only
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;

  // FFN.
  int dense_intermediate = 0;  // intermediate_size of dense FFN layers

  // MoE (num_experts == 0: a dense model).
  int num_experts = 0;             // routed experts per MoE layer
  int top_k = 0;                   // routed experts per token (num_experts_per_tok)
  int num_groups = 1;              // expert groups (MoGE groups, DeepSeek n_group); 1 = none
  int topk_group = 0;              // groups kept per token (group-limited routing); 0 = all
  int num_shared_experts = 0;      // always-active experts
  int shared_intermediate = 0;     // intermediate size of one shared expert
  int moe_intermediate = 0;        // intermediate size of one routed expert
  ScoringFunc scoring = ScoringFunc::softmax;
  GroupScore group_score = GroupScore::max;  // group_limited only: see GroupScore
  bool norm_topk_prob = false;     // renormalise the k chosen weights to sum 1
  double routed_scaling_factor = 1.0;
  std::string router = "topk";     // the router this model was trained with

  bool is_moe() const { return num_experts > 0; }
  int moe_layers() const { return is_moe() ? num_layers - first_dense_layers : 0; }
};

}  // namespace moesim
