#include "cost/model_math.hpp"

#include <algorithm>

namespace moesim::cost {

double attention_params(const ModelSpec& m) {
  const double H = m.hidden;
  if (m.attention == AttentionKind::gqa) {
    const double hd = m.head_dim > 0 ? m.head_dim : H / m.num_heads;
    return H * hd * (2.0 * m.num_heads + 2.0 * m.num_kv_heads);
  }
  const double qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
  const double q = m.q_lora_rank > 0 ? H * m.q_lora_rank + double(m.q_lora_rank) * m.num_heads * qk
                                     : H * m.num_heads * qk;
  const double kv_a = H * (m.kv_lora_rank + m.qk_rope_head_dim);
  const double kv_b = double(m.kv_lora_rank) * m.num_heads * (m.qk_nope_head_dim + m.v_head_dim);
  const double o = double(m.num_heads) * m.v_head_dim * H;
  return q + kv_a + kv_b + o;
}

double attention_core_flops(const ModelSpec& m, double keys, Phase phase) {
  const double h = m.num_heads;
  if (m.attention == AttentionKind::gqa) {
    const double hd = m.head_dim > 0 ? m.head_dim : double(m.hidden) / m.num_heads;
    return 2.0 * h * hd * keys * 2.0;  // QK^T and PV, each 2 * head_dim FLOPs per (head, key)
  }
  if (phase == Phase::decode) {  // absorbed: scores on kv_lora + rope dims, values on kv_lora dims
    return 2.0 * h * keys * (2.0 * m.kv_lora_rank + m.qk_rope_head_dim);
  }
  return 2.0 * h * keys * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim);
}

double kv_bytes_per_token(const ModelSpec& m, DType kv) {
  if (m.attention == AttentionKind::gqa) {
    const double hd = m.head_dim > 0 ? m.head_dim : double(m.hidden) / m.num_heads;
    return 2.0 * m.num_kv_heads * hd * bytes_of(kv);
  }
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

double total_params(const ModelSpec& m) {
  const double blocks = m.num_layers * attention_params(m) + m.first_dense_layers * dense_ffn_params(m) +
                        m.moe_layers() * (shared_params(m) + m.num_experts * expert_params(m));
  const double dense_model_ffn = m.is_moe() ? 0.0 : (m.num_layers - m.first_dense_layers) * dense_ffn_params(m);
  return blocks + dense_model_ffn + 2.0 * embedding_params(m);
}

double active_params(const ModelSpec& m) {
  const double blocks = m.num_layers * attention_params(m) + m.first_dense_layers * dense_ffn_params(m) +
                        m.moe_layers() * (shared_params(m) + m.top_k * expert_params(m));
  const double dense_model_ffn = m.is_moe() ? 0.0 : (m.num_layers - m.first_dense_layers) * dense_ffn_params(m);
  return blocks + dense_model_ffn + 2.0 * embedding_params(m);
}

}  // namespace moesim::cost
