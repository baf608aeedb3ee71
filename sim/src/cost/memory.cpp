#include "cost/memory.hpp"

#include "cost/model_math.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::cost {

namespace {

int max_slots(const Placement& p) {
  if (p.num_devices <= 0) return 0;
  std::vector<int> slots(p.num_devices, 0);
  for (int32_t d : p.phy2dev) ++slots[d];
  return *std::max_element(slots.begin(), slots.end());
}

// Bytes a token keeps live in one block at inference: about ten hidden-sized bf16 buffers (input, residual,
// norm, attention output, dispatch and combine buffers) plus the widest FFN's gate and up outputs.
double live_bytes_per_token(const Layout& L) {
  const ModelSpec& m = L.m;
  const DeploymentSpec& d = L.dep;
  const double ffn = std::max({double(m.dense_intermediate) / d.attention.tp, double(m.moe_intermediate) * m.top_k / d.experts.tp,
                               double(m.shared_intermediate) * m.num_shared_experts / d.shared_tp});
  return (10.0 * m.hidden + 2.0 * ffn) * 2.0;
}

// Bytes a token's activations keep for the backward pass in one block: the block input and the two norm
// outputs (bf16), every attention projection's output and the attention core's output (bf16), and each FFN's
// input at the GEMM precision, gate/up outputs (bf16) and SwiGLU output at the GEMM precision (routed
// experts: k copies). selective drops the norm outputs and the up-projections' outputs (all attention GEMMs
// but the first and o); full keeps the block input alone.
double saved_bytes_per_token(const Layout& L) {
  const ModelSpec& m = L.m;
  const DeploymentSpec& d = L.dep;
  const int tp = d.attention.tp;
  const Recompute rc = d.training.recompute;
  if (rc == Recompute::full) return m.hidden * 2.0;
  const auto gemms = attention_gemms(m, Phase::prefill);
  double b = (rc == Recompute::selective ? 1.0 : 3.0) * m.hidden * 2.0 + attention_output_width(m) / tp * 2.0;
  for (size_t i = 0; i < gemms.size(); ++i) {
    const bool up = i > 0 && i + 1 < gemms.size();
    if (rc == Recompute::selective && up) continue;
    b += (gemms[i].split == Split::column ? gemms[i].out / tp : gemms[i].out) * 2.0;
  }
  const auto ffn = [&](double inter) { return m.hidden * L.act_bytes + 2.0 * inter * 2.0 + inter * L.act_bytes; };
  if (m.is_moe())
    b += m.top_k * ffn(double(m.moe_intermediate) / d.experts.tp) +
         (m.num_shared_experts > 0 ? ffn(double(m.shared_intermediate) * m.num_shared_experts / d.shared_tp) : 0.0);
  else
    b += ffn(double(m.dense_intermediate) / tp);
  return b;
}

}  // namespace

DeviceParams device_params(const Layout& L, int slots) {
  const ModelSpec& m = L.m;
  const DeploymentSpec& d = L.dep;
  const int tp = d.attention.tp;
  const bool training = d.phase == Phase::training;
  const double stages = training ? std::max(1, d.training.pipeline_stages) : 1.0;
  DeviceParams p;
  p.replicated = (m.num_layers * attention_params_per_rank(m, tp) + dense_blocks(m) * dense_ffn_params(m) / tp +
                  m.moe_layers() * (shared_params(m) / d.shared_tp + router_params(m))) / stages;
  p.replicated += (stages > 1 ? 1.0 : 2.0) * embedding_params(m) / tp;
  p.experts = m.moe_layers() * slots * expert_params(m) / d.experts.tp / stages;
  return p;
}

MemoryFootprint footprint(const Layout& L, const Placement& placement) {
  const ModelSpec& m = L.m;
  const DeploymentSpec& d = L.dep;
  const bool training = d.phase == Phase::training;
  MemoryFootprint mem;
  mem.capacity = L.hw.memory_bytes;
  const DeviceParams p = device_params(L, m.is_moe() ? max_slots(placement) : 0);
  const double emb = (training && d.training.pipeline_stages > 1 ? 1.0 : 2.0) * embedding_params(m) / d.attention.tp;
  // Inference: blocks at the weight dtype, embedding and LM head in bf16. Training: bf16 weights, fp32
  // gradients, and fp32 master weights + AdamW moments (12 bytes per parameter) sharded ZeRO-1 style.
  if (training) {
    mem.weights = p.total() * 2.0;
    mem.gradients = p.total() * 4.0;
    mem.optimizer = (p.replicated / std::max(1, d.training.zero_shards) + p.experts) * 12.0;
  } else {
    mem.weights = (p.total() - emb) * L.weight_bytes + emb * 2.0;
  }
  const double kv_token = kv_bytes_per_token(m, d.kv_cache) / kv_split(m, d.attention.tp) * m.num_layers;
  const double room = mem.capacity - mem.weights - mem.gradients - mem.optimizer;
  const auto fit = [&](double per_unit) { return room > 0 ? int64_t(std::floor(room / per_unit)) * d.attention.dp : 0; };
  if (training) {
    // 1F1B keeps min(stages, micro-batches) micro-batches of activations live on the first stage.
    const double stages = std::max(1, d.training.pipeline_stages);
    const double live = std::min(stages, double(std::max(1, d.training.micro_batches)));
    mem.activations_per_token = saved_bytes_per_token(L) * m.num_layers / stages * live;
    mem.activations = L.tokens_rank * mem.activations_per_token;
    mem.max_batch = fit(mem.activations_per_token);
    return mem;
  }
  mem.activations_per_token = live_bytes_per_token(L);
  mem.activations = L.tokens_rank * mem.activations_per_token;
  if (d.phase == Phase::decode) {
    const double per_seq_tokens = d.context_length + 1 + d.mtp_tokens;
    mem.kv_cache = L.seqs_rank * per_seq_tokens * kv_token;
    mem.kv_per_sequence = per_seq_tokens * kv_token + (1 + d.mtp_tokens) * mem.activations_per_token;
    mem.max_batch = fit(mem.kv_per_sequence);
  } else {
    mem.kv_cache = L.tokens_rank * kv_token;
    mem.max_batch = fit(kv_token + mem.activations_per_token);
  }
  return mem;
}

}  // namespace moesim::cost
