// One MoE block on every expert-parallel rank: its compute stages, its dispatch and combine, and how two
// micro-batches overlap them (cost/layer.cpp).
#pragma once

#include "cost/all_to_all.hpp"
#include "cost/block.hpp"

namespace moesim::cost {

// Bytes one token copy carries in a dispatch of dtype `d` (hidden values plus quantisation scales):
//   fp8:  one fp32 scale per 128 channels (DeepEP: recv_x_scales [..., hidden / 128] float; DeepGEMM's
//         1x128 activation blocks);
//   int8: one fp32 scale per token (DeepEP-Ascend, sgl-kernel-npu LOW_LATENCY_API.md: per-token dynamic
//         quantisation, "quant_mode=2", scales shaped [num_max_tokens] float32);
//   bf16: none.
double token_copy_bytes(int hidden, DType d);

// One micro-batch's stage times on one device and its transfers (seconds).
struct StageTimes {
  double attention = 0;  // attention stage compute (with its TP all-reduce)
  double moe = 0;        // router, shared and routed experts (with the shared all-reduce)
  double dispatch = 0, combine = 0;
};

// Wall time of one block on one device. One micro-batch: attention + moe + dispatch + combine.
// Two micro-batches A and B (DeepSeek's dual micro-batch overlap): the compute stream runs attn_B, moe_A,
// moe_B, attn_A' while dispatch_A, dispatch_B, combine_A, combine_B run beside them, each transfer next to
// the other micro-batch's stage:  T = o(a, d) + o(m, d) + o(m, c) + o(a, c), where o(x, y) is a compute
// part x beside a transfer y. A transfer that occupies a fraction `share` of the compute units slows the
// compute beside it: o = y when y >= x / (1 - share), else x + share y (share 0: max(x, y)).
double block_wall_s(const StageTimes& t, int micro_batches, double share);

}  // namespace moesim::cost
