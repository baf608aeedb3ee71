// moesim/deployment.hpp: how a model is laid out on the cluster and what one step computes.
#pragma once

#include <string>

namespace moesim {

enum class DType { bf16, fp8, int8 };
const char* to_string(DType d);
inline double bytes_of(DType d) { return d == DType::bf16 ? 2.0 : 1.0; }

// decode: one new token per sequence; prefill: the prompts; training: forward, backward and optimizer step.
enum class Phase { decode, prefill, training };
const char* to_string(Phase p);

// How the expert all-to-all is carried out (DeepEP's two kinds of kernel).
enum class AllToAll {
  normal,       // one copy of a token per destination device (throughput kernels, prefill)
  low_latency,  // one copy per selected expert, no de-duplication (decode kernels)
};
const char* to_string(AllToAll a);

struct Parallel {
  int dp = 1;  // data-parallel replicas
  int tp = 1;  // tensor-parallel degree inside a replica
};

// The training step (phase: training). Data parallelism is the attention dp degree: attention, dense FFN,
// shared-expert and embedding gradients are reduced over it; routed experts are not replicated (ep x tp =
// devices), so their gradients need no reduction.
// Activation recomputation. selective (Korthikanti et al. 2022; DeepSeek-V3 sec. 3.2.3 recomputes RMSNorm
// and the MLA up-projections): the norms and the attention up-projections run again in the backward pass
// and their outputs are not kept; full: the whole forward runs again and only each block's input is kept.
enum class Recompute { none, selective, full };
const char* to_string(Recompute r);

struct TrainingSpec {
  int zero_shards = 1;      // ZeRO-1: fp32 master weights and AdamW moments sharded over this many dp ranks
  Recompute recompute = Recompute::none;
  int pipeline_stages = 1;  // pipeline parallelism: each device holds num_layers / stages blocks (memory)
  int micro_batches = 1;    // micro-batches per step and pipeline: 1F1B bubble = (stages - 1) / micro_batches
};

struct DeploymentSpec {
  bool enabled = false;  // false: load balance only, no throughput model
  Phase phase = Phase::decode;
  // decode: KV-cache length each sequence attends to; prefill and training: the sequence length (causal).
  int context_length = 4096;
  Parallel attention;  // attention (and dense FFN layers): dp * tp = devices
  Parallel experts;    // routed experts: dp = expert-parallel degree (EP), tp = expert tensor parallelism
  int shared_tp = 1;   // shared experts: tensor-parallel degree (each group of shared_tp devices shares them)
  DType weights = DType::bf16;
  DType activations = DType::bf16;  // GEMM input precision: int8 with int8 weights = W8A8
  DType kv_cache = DType::bf16;
  DType dispatch = DType::bf16;
  DType combine = DType::bf16;
  bool overlap = false;  // two micro-batches: communication hidden behind the other one's compute
  AllToAll all_to_all = AllToAll::normal;
  int mtp_tokens = 0;           // multi-token prediction: draft tokens per sequence per step
  double mtp_acceptance = 0.0;  // probability a draft token is accepted
  TrainingSpec training;        // phase: training only
};

// The GEMM precision a deployment runs: 8-bit only when weights and activations both are (W8A8, FP8 x FP8);
// 8-bit weights with 16-bit activations are dequantised and multiplied in BF16.
inline bool gemm_is_8bit(const DeploymentSpec& d) { return d.weights != DType::bf16 && d.weights == d.activations; }

}  // namespace moesim
