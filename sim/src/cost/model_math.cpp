#include "cost/model_math.hpp"

#include <algorithm>

namespace moesim::cost {

namespace {

double gqa_head_dim(const ModelSpec& m) { return m.head_dim > 0 ? m.head_dim : double(m.hidden) / m.num_heads; }

}  // namespace

std::vector<GemmShape> attention_gemms(const ModelSpec& m, Phase phase) {
  const double H = m.hidden, h = m.num_heads;
  if (m.attention == AttentionKind::gqa) {
    const double hd = gqa_head_dim(m);
    const double qkv = (h + 2.0 * m.num_kv_heads) * hd;
    return {{H * qkv, H, qkv, Split::column}, {h * hd * H, h * hd, H, Split::row}};
  }
  const double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
  const double kv_a = m.kv_lora_rank + m.qk_rope_head_dim;
  std::vector<GemmShape> g;
  if (m.q_lora_rank > 0) {
    g.push_back({H * (m.q_lora_rank + kv_a), H, m.q_lora_rank + kv_a, Split::replicated});  // fused q_a + kv_a
    g.push_back({double(m.q_lora_rank) * h * qk, double(m.q_lora_rank), h * qk, Split::column});
  } else {
    g.push_back({H * kv_a, H, kv_a, Split::replicated});
    g.push_back({H * h * qk, H, h * qk, Split::column});
  }
  const double lora = m.kv_lora_rank;
  if (phase == Phase::decode) {  // absorbed: [h, nope] x [h, nope, lora] and [h, lora] x [h, lora, v]
    g.push_back({h * m.qk_nope_head_dim * lora, h * m.qk_nope_head_dim, h * lora, Split::column, true});
    g.push_back({h * lora * m.v_head_dim, h * lora, h * m.v_head_dim, Split::column, true});
  } else {
    g.push_back({lora * h * (m.qk_nope_head_dim + m.v_head_dim), lora, h * (m.qk_nope_head_dim + m.v_head_dim),
                 Split::column});
  }
  g.push_back({h * m.v_head_dim * H, h * m.v_head_dim, H, Split::row});
  return g;
}

double attention_params(const ModelSpec& m) {
  double p = 0;
  for (const auto& g : attention_gemms(m, Phase::prefill)) p += g.params;
  return p;
}

double attention_params_per_rank(const ModelSpec& m, int tp) {
  double p = 0;
  for (const auto& g : attention_gemms(m, Phase::prefill)) p += g.split == Split::replicated ? g.params : g.params / tp;
  return p;
}

double attention_core_flops(const ModelSpec& m, double keys, Phase phase) {
  const double h = m.num_heads;
  if (m.attention == AttentionKind::gqa) {
    return 2.0 * h * gqa_head_dim(m) * keys * 2.0;  // QK^T and PV, each 2 * head_dim FLOPs per (head, key)
  }
  if (phase == Phase::decode) {  // absorbed: scores on kv_lora + rope dims, values on kv_lora dims
    return 2.0 * h * keys * (2.0 * m.kv_lora_rank + m.qk_rope_head_dim);
  }
  return 2.0 * h * keys * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim);
}

double attention_core_io(const ModelSpec& m) {
  if (m.attention == AttentionKind::gqa) return 2.0 * m.num_heads * gqa_head_dim(m);
  return double(m.num_heads) * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim);
}

double attention_output_width(const ModelSpec& m) {
  return m.attention == AttentionKind::gqa ? m.num_heads * gqa_head_dim(m) : double(m.num_heads) * m.v_head_dim;
}

double rope_elements(const ModelSpec& m) {
  if (m.attention == AttentionKind::gqa) return (double(m.num_heads) + m.num_kv_heads) * gqa_head_dim(m);
  return (m.num_heads + 1.0) * m.qk_rope_head_dim;
}

double kv_bytes_per_token(const ModelSpec& m, DType kv) {
  if (m.attention == AttentionKind::gqa) return 2.0 * m.num_kv_heads * gqa_head_dim(m) * bytes_of(kv);
  return double(m.kv_lora_rank + m.qk_rope_head_dim) * bytes_of(kv);
}

int kv_split(const ModelSpec& m, int tp) {
  if (m.attention == AttentionKind::mla) return 1;
  return std::max(1, std::min(tp, m.num_kv_heads));
}

double expert_params(const ModelSpec& m) { return 3.0 * m.hidden * m.moe_intermediate; }
double shared_params(const ModelSpec& m) { return 3.0 * m.hidden * m.shared_intermediate * m.num_shared_experts; }
double dense_ffn_params(const ModelSpec& m) { return 3.0 * m.hidden * m.dense_intermediate; }
double embedding_params(const ModelSpec& m) { return double(m.vocab) * m.hidden; }
double router_params(const ModelSpec& m) { return double(m.hidden) * m.num_experts; }

double total_params(const ModelSpec& m) {
  const double blocks = m.num_layers * attention_params(m) + dense_blocks(m) * dense_ffn_params(m) +
                        m.moe_layers() * (shared_params(m) + m.num_experts * expert_params(m));
  return blocks + 2.0 * embedding_params(m);
}

double active_params(const ModelSpec& m) {
  const double blocks = m.num_layers * attention_params(m) + dense_blocks(m) * dense_ffn_params(m) +
                        m.moe_layers() * (shared_params(m) + m.top_k * expert_params(m));
  return blocks + 2.0 * embedding_params(m);
}

}  // namespace moesim::cost
