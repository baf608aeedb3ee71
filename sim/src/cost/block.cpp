#include "cost/block.hpp"

#include "cost/model_math.hpp"

#include <algorithm>

namespace moesim::cost {

namespace {

// A fused residual add + RMSNorm reads x and the residual and writes both: 4 hidden-sized bf16 rows.
double norm_bytes(const ModelSpec& m) { return 4.0 * m.hidden * 2.0; }

// One GEMM kernel for t tokens on one of `tp` ranks: weights once, inputs at the GEMM precision, bf16 output.
Work gemm_kernel(const Layout& L, const GemmShape& g, double t, int tp) {
  const double div = g.split == Split::replicated ? 1.0 : tp;
  const double in = g.split == Split::row ? g.in / tp : g.in;
  const double out = g.split == Split::column ? g.out / tp : g.out;
  if (g.bf16) return L.rates.bf16_gemm(2.0 * g.params * t / div, g.params * 2.0 / div + t * (in + out) * 2.0);
  return L.rates.gemm(2.0 * g.params * t / div, g.params * L.weight_bytes / div + t * (in * L.act_bytes + out * 2.0));
}

// A SwiGLU FFN of `inter` intermediate width (per rank) for t tokens: gate/up and down GEMMs, the SwiGLU
// (reads gate and up in bf16, writes at the GEMM input precision) and, with 8-bit GEMMs, the quantisation
// of its input (reads bf16, writes 8-bit).
Work swiglu_ffn(const Layout& L, double t, double inter) {
  const double H = L.m.hidden;
  Work w = gemm_kernel(L, {2.0 * H * inter, H, 2.0 * inter, Split::replicated}, t, 1) +
           gemm_kernel(L, {H * inter, inter, H, Split::replicated}, t, 1) +
           L.rates.stream(t * inter * (4.0 + L.act_bytes));
  if (gemm_runs_8bit(L.hw, L.dep)) w += L.rates.stream(t * H * 3.0);
  return w;
}

}  // namespace

Layout::Layout(const CostInput& in)
    : m(in.model), hw(in.hardware), dep(in.deployment), rates(in.hardware, in.deployment), devices(in.devices),
      devices_per_node(std::max(1, in.devices_per_node)) {
  tokens = double(in.tokens_per_step);
  tokens_rank = tokens / dep.attention.dp;
  seqs_rank = dep.phase == Phase::decode ? tokens_rank / (1 + dep.mtp_tokens)
                                         : tokens_rank / std::max(1, dep.context_length);
  micro_batches = dep.overlap ? 2 : 1;
  shapes = dep.phase == Phase::decode ? Phase::decode : Phase::prefill;
  weight_bytes = bytes_of(dep.weights);
  act_bytes = gemm_runs_8bit(hw, dep) ? 1.0 : 2.0;
}

double Layout::keys() const { return dep.phase == Phase::decode ? dep.context_length : (dep.context_length + 1) / 2.0; }

AttentionWork attention_stage(const Layout& L, double t, double seqs) {
  const ModelSpec& m = L.m;
  const int tp = L.dep.attention.tp;
  AttentionWork a;
  const Work norm = L.rates.stream(t * norm_bytes(m));
  a.other += norm;
  a.recomputable += norm;
  const auto gemms = attention_gemms(m, L.shapes);
  for (size_t i = 0; i < gemms.size(); ++i) {
    const Work g = gemm_kernel(L, gemms[i], t, tp);
    a.other += g;
    if (i > 0 && i + 1 < gemms.size()) a.recomputable += g;  // up-projections (not the first nor o)
  }
  if (gemm_runs_8bit(L.hw, L.dep))  // quantise the inputs of the first projection and of o
    a.other += L.rates.stream(t * m.hidden * 3.0) + L.rates.stream(t * gemms.back().in / tp * 3.0);
  a.other += L.rates.stream(t * rope_elements(m) / tp * 2.0 * 2.0);
  const double kvb = kv_bytes_per_token(m, L.dep.kv_cache) / kv_split(m, tp);
  const double flops = t * attention_core_flops(m, L.keys(), L.shapes) / tp;
  const double io = t * attention_core_io(m) / tp * 2.0;
  // Decode: every sequence reads its whole cache once (draft tokens share it). Otherwise the kernel writes
  // the new cache and re-reads tiles from on-chip memory.
  const double cache = L.dep.phase == Phase::decode ? seqs * L.dep.context_length * kvb : t * kvb;
  a.core = L.rates.attention(flops, io + cache);
  return a;
}

double ring_collective_s(const Layout& L, double wire_bytes, int ranks, bool inside_node) {
  const Link& link = inside_node ? L.hw.scale_up : L.hw.scale_out;
  const double bw =
      link.bandwidth_bytes_per_s * (inside_node ? L.hw.eff.scale_up.value : L.hw.eff.scale_out.value);
  return wire_bytes / bw + 2.0 * (ranks - 1) * link.latency_s + L.hw.eff.collective_latency.value;
}

double all_reduce_s(const Layout& L, double bytes, int ranks) {
  if (ranks <= 1) return 0.0;
  return ring_collective_s(L, 2.0 * (ranks - 1) / ranks * bytes, ranks, ranks <= L.devices_per_node);
}

Work dense_ffn(const Layout& L, double t) {
  return L.rates.stream(t * norm_bytes(L.m)) + swiglu_ffn(L, t, double(L.m.dense_intermediate) / L.dep.attention.tp);
}

Work moe_router(const Layout& L, double t) {
  const ModelSpec& m = L.m;
  const double E = m.num_experts;
  return L.rates.stream(t * norm_bytes(m)) +
         L.rates.bf16_gemm(2.0 * router_params(m) * t, router_params(m) * 2.0 + t * (m.hidden * 2.0 + E * 4.0)) +
         L.rates.stream(t * (E * 4.0 + m.top_k * 8.0));
}

Work shared_experts(const Layout& L, double t_shared) {
  if (L.m.num_shared_experts <= 0 || t_shared <= 0) return {};
  return swiglu_ffn(L, t_shared, double(L.m.shared_intermediate) * L.m.num_shared_experts / L.dep.shared_tp);
}

Work routed_experts(const Layout& L, const std::vector<double>& slot_tokens) {
  const ModelSpec& m = L.m;
  const double H = m.hidden, etp = L.dep.experts.tp, inter = m.moe_intermediate / etp;
  const double Pe = expert_params(m) / etp;
  const double act_per_token = H * L.act_bytes + 2.0 * inter * 2.0 + inter * L.act_bytes + H * 2.0;
  const double g = L.hw.eff.grouped_gemm.value;  // the grouped kernel's rate relative to a dense GEMM
  Work w;
  double n_all = 0;
  for (double n : slot_tokens) {
    if (n <= 0) continue;
    const double flops = 2.0 * Pe * n, bytes = Pe * L.weight_bytes + n * act_per_token;
    w += {roofline(flops, L.rates.gemm_flops * g, bytes, L.rates.bytes_per_s * g), flops, bytes};
    n_all += n;
  }
  if (n_all <= 0) return w;
  w.s += 2.0 * L.rates.kernel_s;                                // the gate/up and down grouped-GEMM kernels
  w += L.rates.stream(n_all * inter * (4.0 + L.act_bytes));    // SwiGLU
  if (L.dep.all_to_all == AllToAll::normal)                     // permute in (8-bit or bf16 rows), gather out (bf16)
    w += L.rates.stream(n_all * H * 2.0 * bytes_of(L.dep.dispatch)) + L.rates.stream(n_all * H * 2.0 * 2.0);
  return w;
}

Work embedding(const Layout& L, double t) { return L.rates.stream(t * L.m.hidden * 2.0 * 2.0); }

Work lm_head(const Layout& L, double out_tokens) {
  const double V = L.m.vocab, H = L.m.hidden, tp = L.dep.attention.tp;
  const double logits = out_tokens * V / tp * 4.0;  // fp32 logits written, then read by sampling
  return L.rates.stream(out_tokens * norm_bytes(L.m)) +
         L.rates.bf16_gemm(2.0 * V * H * out_tokens / tp, V * H * 2.0 / tp + out_tokens * H * 2.0 + logits) +
         L.rates.stream(logits);
}

}  // namespace moesim::cost
