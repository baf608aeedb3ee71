// moesim/hardware.hpp: one accelerator and its links, as a cost model sees it.
// Nominal figures (datasheets) and calibrated efficiencies (measured fractions of nominal) are kept
// apart, and every calibrated value carries its source, so a report can show both.
#pragma once

#include <string>

namespace moesim {

struct Link {
  std::string name;              // e.g. "NVLink 4 (H800)"
  double bandwidth_bytes_per_s = 0;  // per device, per direction
  double latency_s = 0;              // small-message latency of one transfer
};

struct Calibrated {
  double value = 1.0;  // achievable fraction of the nominal figure (0, 1]
  std::string source;  // where it comes from (a measurement, a paper) or why it was chosen
};

// Kinds of kernel a calibrated efficiency applies to.
struct Efficiencies {
  Calibrated gemm;          // dense GEMM: projections, dense FFN, shared experts, LM head
  Calibrated grouped_gemm;  // MoE grouped GEMM over the routed experts
  Calibrated attention;     // attention core (FlashAttention / FlashMLA class), compute side
  Calibrated memory;        // achievable HBM bandwidth for weight and KV-cache streaming
  Calibrated scale_up;      // achievable scale-up (NVLink, HCCS, UB) all-to-all bandwidth
  Calibrated scale_out;     // achievable scale-out (IB, RoCE) bandwidth
  Calibrated scale_up_low_latency;  // scale-up bandwidth reached by low-latency all-to-all kernels
  Calibrated all_to_all_latency;    // seconds (not a fraction): fixed cost of one dispatch or combine
  Calibrated step_overhead;         // seconds (not a fraction): per-step framework overhead
  Calibrated layer_overhead;        // seconds (not a fraction): per transformer block, the small kernels
                                    // (norms, RoPE, gating, quantisation, permutes) and launch gaps
};

struct HardwareSpec {
  std::string name, description, source;
  // Nominal (datasheet, dense).
  double flops_bf16 = 0;  // FLOP/s
  double flops_fp8 = 0;   // FLOP/s; 0 = no FP8 support
  double flops_int8 = 0;  // OP/s
  double memory_bytes = 0;
  double memory_bandwidth_bytes_per_s = 0;
  int devices_per_node = 8;
  Link scale_up, scale_out;
  // Calibrated.
  Efficiencies eff;
  // Price of one device-hour.
  double usd_per_hour = 0;
  std::string price_source, price_date;
};

}  // namespace moesim
