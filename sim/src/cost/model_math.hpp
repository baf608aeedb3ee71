// Parameter, FLOP and byte counts of one transformer block, from the model's shapes alone.
// Conventions: a matrix-vector product with P parameters costs 2P FLOPs per token; SwiGLU FFNs have three
// matrices (gate, up, down) of hidden x intermediate.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/model.hpp"

#include <vector>

namespace moesim::cost {

// How tensor parallelism splits a GEMM: replicated on every rank, split along its output (column) or its
// input (row, the partial outputs then all-reduced).
enum class Split { replicated, column, row };

// One GEMM of a block, per token: its parameters (2 x params FLOPs per token) and its input and output
// widths in elements (all TP ranks together).
struct GemmShape {
  double params = 0, in = 0, out = 0;
  Split split = Split::column;
  bool bf16 = false;  // runs in BF16 whatever the deployment's precision (MLA's absorbed batched GEMMs)
};

// The attention projections of one block, one entry per GEMM kernel.
// GQA: fused qkv (column), o (row). MLA (DeepSeek-V2/V3, as vLLM and SGLang run it): fused q_a + kv_a
// (replicated on every TP rank), q_b (column), o (row), and kv_b: at decode absorbed into two per-head
// batched GEMMs (q_nope x W_UK into the latent, the latent output x W_UV), at prefill one GEMM expanding
// the new tokens' latent into per-head keys and values. The absorbed pair runs as BF16 batched GEMMs
// (torch.bmm in SGLang and in DeepSeek's decode profile), not in the deployment's 8-bit precision.
std::vector<GemmShape> attention_gemms(const ModelSpec& m, Phase phase);

// Attention projection parameters of one block (GQA: q, k, v, o; MLA: q_a, q_b, kv_a, kv_b, o).
double attention_params(const ModelSpec& m);
// Of those, the ones one of `tp` ranks holds (replicated GEMMs in full, split ones / tp).
double attention_params_per_rank(const ModelSpec& m, int tp);

// Attention-core FLOPs for one query token attending to `keys` cached keys (QK^T and PV), all heads.
// MLA at decode runs absorbed (DeepSeek FlashMLA: scores against the 512 + 64 latent, output in the
// latent); at prefill it runs un-absorbed on the per-head 192-dim keys and 128-dim values.
double attention_core_flops(const ModelSpec& m, double keys, Phase phase);

// Query and output activation elements of the attention core per token, all heads (read and written by it).
double attention_core_io(const ModelSpec& m);

// Output elements of the attention core per token, all heads (the input of o).
double attention_output_width(const ModelSpec& m);

// Elements RoPE rotates per token: the rope dims of every query head and of the keys.
double rope_elements(const ModelSpec& m);

// KV-cache bytes one token leaves in one block (GQA: K and V of every KV head; MLA: the latent + rope key).
double kv_bytes_per_token(const ModelSpec& m, DType kv);

// How many tensor-parallel ranks the KV cache is split across (GQA splits KV heads; MLA's latent is
// replicated on every rank).
int kv_split(const ModelSpec& m, int tp);

double expert_params(const ModelSpec& m);       // one routed expert: 3 * hidden * moe_intermediate
double shared_params(const ModelSpec& m);       // all shared experts of one block
double dense_ffn_params(const ModelSpec& m);    // one dense FFN block: 3 * hidden * dense_intermediate
double embedding_params(const ModelSpec& m);    // vocab * hidden (the LM head has as many again)
double router_params(const ModelSpec& m);       // the gate: hidden * routed experts

// Total parameters (attention, FFN or experts, embeddings and LM head), and those active per token.
double total_params(const ModelSpec& m);
double active_params(const ModelSpec& m);

// Blocks with a dense FFN (all of a dense model's).
inline int dense_blocks(const ModelSpec& m) { return m.is_moe() ? m.first_dense_layers : m.num_layers; }

}  // namespace moesim::cost
