// moesim/hardware.hpp: one accelerator and its links, as a cost model sees it.
// Nominal figures (datasheets) and calibrated efficiencies (measured fractions of nominal, or measured
// fixed costs) are kept apart, and every calibrated value carries its source, so a report can show both.
#pragma once

#include "moesim/deployment.hpp"

#include <array>
#include <string>
#include <string_view>

namespace moesim {

struct Link {
  std::string name;              // e.g. "NVLink 4 (H800)"
  double bandwidth_bytes_per_s = 0;  // per device, per direction
  double latency_s = 0;              // small-message latency of one transfer (one hop)
};

struct Calibrated {
  double value = 1.0;  // achievable fraction of the nominal figure (0, 1], or seconds where the name says so
  std::string source;  // where it comes from (a measurement, a paper) or why it was chosen
};

// One value per kind of kernel (configs/hardware/README.md gives the reasoning for each preset).
struct Efficiencies {
  Calibrated gemm;       // dense GEMM with 16-bit inputs: fraction of flops_bf16
  Calibrated gemm_8bit;  // dense GEMM with 8-bit inputs (FP8 x FP8, INT8 W8A8): fraction of that peak
  Calibrated grouped_gemm;  // the MoE grouped-GEMM kernel's rate (compute and memory side) relative to a dense GEMM
                            // of the same precision: 1 where the library's grouped kernel matches its dense one
  Calibrated attention;  // attention core (FlashAttention / FlashMLA class), compute side: fraction of flops_bf16
  Calibrated memory;     // achievable HBM bandwidth of streaming kernels (weights, KV cache, elementwise)
  Calibrated scale_up;   // achievable scale-up (NVLink, HCCS, UB) bandwidth of throughput all-to-all / collectives
  Calibrated scale_out;  // achievable scale-out (IB, RoCE) bandwidth
  Calibrated scale_up_low_latency;  // scale-up bandwidth reached by low-latency all-to-all kernels
  Calibrated all_to_all_latency;    // seconds: fixed cost of one dispatch or combine
  Calibrated collective_latency;    // seconds: software cost of one tensor-parallel collective call, on top of
                                    // the per-hop link latency
  Calibrated comm_compute_share;    // fraction of the compute units a normal (throughput) all-to-all kernel
                                    // occupies while it runs (DeepEP: 20 SMs); low-latency kernels take none
  Calibrated kernel_latency;        // seconds per kernel: launch, pipeline fill and drain on top of its roofline
  Calibrated step_overhead;         // seconds per step the host adds on the critical path
};

// The calibrated efficiencies by their keys in a hardware file, in file order, for the reader and the
// reports; fraction: a value in (0, 1] (else seconds, or a ratio that may exceed 1).
struct EfficiencyField {
  std::string_view key;
  Calibrated Efficiencies::*member;
  bool fraction;
};
inline constexpr std::array<EfficiencyField, 13> kEfficiencyFields = {{
    {"gemm", &Efficiencies::gemm, true},
    {"gemm_8bit", &Efficiencies::gemm_8bit, true},
    {"grouped_gemm", &Efficiencies::grouped_gemm, true},
    {"attention", &Efficiencies::attention, true},
    {"memory", &Efficiencies::memory, true},
    {"scale_up", &Efficiencies::scale_up, true},
    {"scale_out", &Efficiencies::scale_out, true},
    {"scale_up_low_latency", &Efficiencies::scale_up_low_latency, true},
    {"all_to_all_latency", &Efficiencies::all_to_all_latency, false},
    {"collective_latency", &Efficiencies::collective_latency, false},
    {"comm_compute_share", &Efficiencies::comm_compute_share, false},
    {"kernel_latency", &Efficiencies::kernel_latency, false},
    {"step_overhead", &Efficiencies::step_overhead, false},
}};

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

// Whether the deployment's GEMMs run at an 8-bit peak on this hardware (gemm_is_8bit and the hardware has it).
inline bool gemm_runs_8bit(const HardwareSpec& h, const DeploymentSpec& d) {
  return gemm_is_8bit(d) && (d.weights == DType::fp8 ? h.flops_fp8 : h.flops_int8) > 0;
}

// Nominal peak of the GEMM precision the deployment runs: FP8 or INT8 peak when 8-bit, else BF16.
inline double gemm_peak_flops(const HardwareSpec& h, const DeploymentSpec& d) {
  if (!gemm_runs_8bit(h, d)) return h.flops_bf16;
  return d.weights == DType::fp8 ? h.flops_fp8 : h.flops_int8;
}

// The calibrated efficiency that goes with gemm_peak_flops.
inline double gemm_efficiency(const HardwareSpec& h, const DeploymentSpec& d) {
  return gemm_runs_8bit(h, d) ? h.eff.gemm_8bit.value : h.eff.gemm.value;
}

}  // namespace moesim
