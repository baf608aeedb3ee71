// moesim/deployment.hpp: how a model is laid out on the cluster and what one step computes.
#pragma once

#include <string>

namespace moesim {

enum class DType { bf16, fp8, int8 };
const char* to_string(DType d);
inline double bytes_of(DType d) { return d == DType::bf16 ? 2.0 : 1.0; }

enum class Phase { decode, prefill };
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

struct DeploymentSpec {
  bool enabled = false;  // false: load balance only, no throughput model
  Phase phase = Phase::decode;
  // decode: KV-cache length each sequence attends to; prefill: the prompt length (causal attention).
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
};

}  // namespace moesim
