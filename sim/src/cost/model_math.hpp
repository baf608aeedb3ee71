// Parameter, FLOP and byte counts of one transformer block, from the model's shapes alone.
// Conventions: a matrix-vector product with P parameters costs 2P FLOPs per token; SwiGLU FFNs have three
// matrices (gate, up, down) of hidden x intermediate.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/model.hpp"

namespace moesim::cost {

// Attention projection parameters of one block (GQA: q, k, v, o; MLA: q_a, q_b, kv_a, kv_b, o).
double attention_params(const ModelSpec& m);

// Attention-core FLOPs for one query token attending to `keys` cached keys (QK^T and PV), all heads.
// MLA at decode runs absorbed (DeepSeek FlashMLA: scores against the 512 + 64 latent, output in the
// latent); at prefill it runs un-absorbed on the per-head 192-dim keys and 128-dim values.
double attention_core_flops(const ModelSpec& m, double keys, Phase phase);

// KV-cache bytes one token leaves in one block (GQA: K and V of every KV head; MLA: the latent + rope key).
double kv_bytes_per_token(const ModelSpec& m, DType kv);

// How many tensor-parallel ranks the KV cache is split across (GQA splits KV heads; MLA's latent is
// replicated on every rank).
int kv_split(const ModelSpec& m, int tp);

double expert_params(const ModelSpec& m);       // one routed expert: 3 * hidden * moe_intermediate
double shared_params(const ModelSpec& m);       // all shared experts of one block
double dense_ffn_params(const ModelSpec& m);    // one dense FFN block: 3 * hidden * dense_intermediate
double embedding_params(const ModelSpec& m);    // vocab * hidden (the LM head has as many again)

// Total parameters (attention, FFN or experts, embeddings and LM head), and those active per token.
double total_params(const ModelSpec& m);
double active_params(const ModelSpec& m);

}  // namespace moesim::cost
