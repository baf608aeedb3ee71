// The kernels of one transformer block on one device, per micro-batch: the attention stage, the dense FFN,
// the MoE stage's router, shared experts and routed experts, the tensor-parallel all-reduce, and the
// step's embedding and LM head. Every kernel is a roofline (cost/work.hpp); shapes follow cost/model_math.
#pragma once

#include "cost/work.hpp"
#include "moesim/cost.hpp"

#include <cstdint>
#include <vector>

namespace moesim::cost {

// What every kernel of a step needs to know, derived once from a CostInput.
struct Layout {
  const ModelSpec& m;
  const HardwareSpec& hw;
  const DeploymentSpec& dep;
  Rates rates;
  int devices = 1, devices_per_node = 1;
  double tokens = 0;       // tokens through the model per step (training: per pipeline micro-batch), all devices
  double tokens_rank = 0;  // of those, per attention data-parallel rank
  double seqs_rank = 0;    // sequences per attention data-parallel rank
  int micro_batches = 1;   // 2 with deployment.overlap (each kernel runs once per micro-batch)
  Phase shapes = Phase::decode;  // GEMM layout: decode's (MLA absorbed) or prefill's (training too)
  double weight_bytes = 2, act_bytes = 2;  // per element: weights; GEMM inputs (8-bit only when the GEMM is)

  explicit Layout(const CostInput& in);
  // Attention-core keys per query token: the context at decode, the causal mean (L + 1) / 2 otherwise.
  double keys() const;
};

// Norm, projections, RoPE and attention core for `t` tokens of `seqs` sequences on one device.
// core: the attention-core kernel alone (its backward costs 2.5x, the rest 2x); recomputable: the part of
// `other` selective recomputation runs again (the norm and the attention up-projections).
struct AttentionWork {
  Work other, core, recomputable;
  Work total() const { return other + core; }
};
AttentionWork attention_stage(const Layout& L, double t, double seqs);

// A ring collective over `ranks` devices that puts wire_bytes on each device's link (scale-up inside a
// node, else scale-out, at their efficiencies): wire_bytes / bandwidth, 2 (ranks - 1) hop latencies and
// the collective's software latency.
double ring_collective_s(const Layout& L, double wire_bytes, int ranks, bool inside_node);
// Ring all-reduce of `bytes` per device over `ranks` devices (scale-up when ranks <= devices per node):
// 2 (n-1)/n of the bytes cross each link in 2 (n-1) hops, plus the collective's software latency.
double all_reduce_s(const Layout& L, double bytes, int ranks);

Work dense_ffn(const Layout& L, double t);                 // norm, gate/up and down GEMMs, SwiGLU
Work moe_router(const Layout& L, double t);                // norm, gate GEMM (BF16), top-k
Work shared_experts(const Layout& L, double t_shared);     // t_shared: tokens its shared_tp group serves

// Routed experts of one expert-parallel rank: one roofline per physical expert that received tokens
// (`slot_tokens`: its assignments in this micro-batch), summed; then the SwiGLU and, with normal
// all-to-all kernels, the permute into and out of the expert-contiguous layout.
Work routed_experts(const Layout& L, const std::vector<double>& slot_tokens);

Work embedding(const Layout& L, double t);         // gather of t rows
Work lm_head(const Layout& L, double out_tokens);  // final norm, LM head GEMM (BF16), logits and sampling

}  // namespace moesim::cost
