// Round-number model and hardware for hand-derived cost tests (tests/unit/test_cost*.cpp).
#pragma once

#include "moesim/cost.hpp"
#include "moesim/hardware.hpp"
#include "moesim/model.hpp"

namespace moesim::toy {

// 1 block, hidden 1024, GQA 8 heads x 128 (8 KV heads), 2 routed experts of 512, top-2, vocab 1000.
//   attention params = 1024 x 128 x (2 x 8 + 2 x 8) = 4,194,304; one expert = 3 x 1024 x 512 = 1,572,864;
//   KV cache per token = 2 x 8 x 128 x 2 B = 4096 bytes (bf16).
inline ModelSpec model() {
  ModelSpec m;
  m.name = "toy";
  m.num_layers = 1;
  m.hidden = 1024;
  m.vocab = 1000;
  m.attention = AttentionKind::gqa;
  m.num_heads = 8;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.num_experts = 2;
  m.top_k = 2;
  m.moe_intermediate = 512;
  return m;
}

// Peaks 1 / 2 / 4 TFLOP/s (bf16 / fp8 / int8), 1 TB/s; efficiencies 0.5 (so the model sees 0.5 TFLOP/s bf16,
// 1 TFLOP/s fp8, 2 TOP/s int8, 0.5 TB/s); scale-up 1 GB/s, scale-out 0.1 GB/s at full efficiency; 10 us per
// all-to-all; no kernel, collective or step latency; 8 devices per node.
inline HardwareSpec hardware() {
  HardwareSpec h;
  h.name = "toy";
  h.flops_bf16 = 1e12;
  h.flops_fp8 = 2e12;
  h.flops_int8 = 4e12;
  h.memory_bytes = 1e12;
  h.memory_bandwidth_bytes_per_s = 1e12;
  h.devices_per_node = 8;
  h.scale_up = {"up", 1e9, 0};
  h.scale_out = {"out", 1e8, 0};
  Efficiencies& e = h.eff;
  e.gemm.value = e.gemm_8bit.value = e.attention.value = e.memory.value = 0.5;
  e.grouped_gemm.value = e.scale_up.value = e.scale_out.value = e.scale_up_low_latency.value = 1.0;
  e.all_to_all_latency.value = 10e-6;
  e.collective_latency.value = e.comm_compute_share.value = e.kernel_latency.value = e.step_overhead.value = 0;
  h.usd_per_hour = 1.0;
  return h;
}

inline CostInput input(const DeploymentSpec& d, int devices, int64_t tokens, const ModelSpec& m = model()) {
  DeploymentSpec dep = d;
  dep.enabled = true;
  return CostInput{m, hardware(), dep, devices, 8, tokens};
}

}  // namespace moesim::toy
