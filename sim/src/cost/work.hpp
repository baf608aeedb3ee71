// The roofline of one device and the Work of a group of kernels on it.
// Every kernel lasts max(FLOPs / achievable FLOP/s, bytes / achievable bytes/s) plus the device's fixed
// kernel latency (launch, pipeline fill and drain); achievable = nominal x the calibrated efficiency.
#pragma once

#include "moesim/hardware.hpp"

#include <algorithm>

namespace moesim::cost {

inline double roofline(double flops, double flops_per_s, double bytes, double bytes_per_s) {
  return std::max(flops_per_s > 0 ? flops / flops_per_s : 0.0, bytes_per_s > 0 ? bytes / bytes_per_s : 0.0);
}

// Time, FLOPs and HBM bytes of some kernels on one device.
struct Work {
  double s = 0, flops = 0, bytes = 0;
  Work& operator+=(const Work& o) {
    s += o.s, flops += o.flops, bytes += o.bytes;
    return *this;
  }
};
inline Work operator+(Work a, const Work& b) { return a += b; }

// Achievable rates of one device for one deployment.
struct Rates {
  double gemm_flops = 0;       // the deployment's GEMM precision (8-bit or BF16) x its efficiency
  double bf16_gemm_flops = 0;  // BF16 GEMMs the deployment keeps in 16 bits (router, LM head)
  double attention_flops = 0;  // attention core (BF16 tensor cores)
  double bytes_per_s = 0;      // HBM streaming
  double kernel_s = 0;         // fixed cost of one kernel

  Rates(const HardwareSpec& h, const DeploymentSpec& d)
      : gemm_flops(gemm_peak_flops(h, d) * gemm_efficiency(h, d)),
        bf16_gemm_flops(h.flops_bf16 * h.eff.gemm.value),
        attention_flops(h.flops_bf16 * h.eff.attention.value),
        bytes_per_s(h.memory_bandwidth_bytes_per_s * h.eff.memory.value),
        kernel_s(h.eff.kernel_latency.value) {}

  // One kernel at the deployment's GEMM precision / at BF16 / the attention core / a memory-bound kernel.
  Work gemm(double flops, double bytes) const { return {roofline(flops, gemm_flops, bytes, bytes_per_s) + kernel_s, flops, bytes}; }
  Work bf16_gemm(double flops, double bytes) const {
    return {roofline(flops, bf16_gemm_flops, bytes, bytes_per_s) + kernel_s, flops, bytes};
  }
  Work attention(double flops, double bytes) const {
    return {roofline(flops, attention_flops, bytes, bytes_per_s) + kernel_s, flops, bytes};
  }
  Work stream(double bytes) const { return {bytes / bytes_per_s + kernel_s, 0, bytes}; }
};

}  // namespace moesim::cost
