#include "sim/throughput.hpp"

#include "cost/model_math.hpp"

#include <cmath>
#include <cstdio>

namespace moesim {

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

double gemm_peak(const HardwareSpec& h, const DeploymentSpec& d) {
  if (d.weights == DType::int8 && d.activations == DType::int8 && h.flops_int8 > 0) return h.flops_int8;
  if ((d.weights == DType::fp8 || d.activations == DType::fp8) && h.flops_fp8 > 0) return h.flops_fp8;
  return h.flops_bf16;
}

}  // namespace

std::unique_ptr<CostModel> make_cost_model(const ScenarioSpec& spec, const Registries& reg, const Placement& placement,
                                           const std::string& setup_key) {
  CostInput in{spec.model, spec.hardware, spec.deployment, spec.cluster.devices, spec.cluster.devices_per_node,
               spec.run.tokens_per_step};
  auto cost = reg.cost_models.get(spec.cost_model, spec.file, "deployment.cost_model").factory(in);
  const MemoryFootprint mem = cost->memory(placement);
  if (mem.total() > mem.capacity) {
    const std::string unit = spec.deployment.phase == Phase::decode ? " sequences" : " tokens";
    throw Error(spec.file, "run.tokens_per_step", std::to_string(spec.run.tokens_per_step),
                setup_key + " needs " + gib(mem.total()) + " per device (weights " + gib(mem.weights) + ", KV cache " +
                    gib(mem.kv_cache) + ", activations " + gib(mem.activations) + ") but " + spec.hardware.name +
                    " has " + gib(mem.capacity) + ": over by " + gib(mem.total() - mem.capacity) +
                    "; the largest batch that fits is " + std::to_string(mem.max_batch) + unit);
  }
  return cost;
}

ThroughputResult summarize_throughput(const ScenarioSpec& spec, const CostModel& cost, const Placement& placement,
                                      const std::vector<LayerCost>& costs, int layers) {
  ThroughputResult r;
  r.enabled = true;
  const DeploymentSpec& d = spec.deployment;
  const int steps = spec.run.steps;
  // Simulated layers stand for all MoE layers (a dense model has none).
  const double scale = layers > 0 ? double(spec.model.moe_layers()) / layers : 0.0;
  const FixedCost fixed = cost.fixed();
  auto& b = r.breakdown;
  std::vector<double> step_s(steps);
  double flops = 0, bytes = 0;
  for (int t = 0; t < steps; ++t) {
    double slowest = 0, mean = 0;
    for (int l = 0; l < layers; ++l) {
      const LayerCost& c = costs[size_t(t) * layers + l];
      slowest += c.slowest_s;
      mean += c.mean_device_s;
      b.attention_s += c.attention_s * scale / steps;
      b.shared_experts_s += c.shared_s * scale / steps;
      b.routed_experts_s += c.routed_s * scale / steps;
      b.tp_comm_s += c.tp_comm_s * scale / steps;
      b.dispatch_s += c.dispatch_s * scale / steps;
      b.combine_s += c.combine_s * scale / steps;
      b.exposed_comm_s += c.exposed_comm_s * scale / steps;
      b.overhead_s += c.overhead_s * scale / steps;
      r.dispatch_per_layer_s += c.dispatch_s / (double(steps) * layers);
      r.combine_per_layer_s += c.combine_s / (double(steps) * layers);
      flops += c.flops * scale / steps;
      bytes += c.bytes * scale / steps;
    }
    // Multi-token prediction: one extra MoE block per draft token (DeepSeek-V3's MTP module).
    const double mtp = layers > 0 ? d.mtp_tokens * slowest / layers : 0.0;
    b.mtp_s += mtp / steps;
    b.imbalance_s += (slowest - mean) * scale / steps;
    step_s[t] = slowest * scale + mtp + fixed.dense_layers_s + fixed.lm_head_s + fixed.overhead_s;
  }
  b.hidden_comm_s = b.dispatch_s + b.combine_s - b.exposed_comm_s;
  b.dense_layers_s = fixed.dense_layers_s;
  b.lm_head_s = fixed.lm_head_s;
  b.overhead_s += fixed.overhead_s;  // per-step overhead on top of the MoE blocks' layer overheads
  r.step_s = summarize(step_s);
  const double devices = spec.cluster.devices;
  r.tokens_per_step = double(spec.run.tokens_per_step);
  if (d.phase == Phase::decode) {
    const double seqs = r.tokens_per_step / (1 + d.mtp_tokens);
    const double per_seq = 1.0 + d.mtp_acceptance * d.mtp_tokens;
    r.output_tokens_per_step = seqs * per_seq;
    r.tpot_s = r.step_s.mean / per_seq;
  } else {
    r.output_tokens_per_step = r.tokens_per_step;
    r.ttft_s = r.step_s.mean;
  }
  r.tokens_per_s = r.output_tokens_per_step / r.step_s.mean;
  r.tokens_per_s_per_device = r.tokens_per_s / devices;
  flops += fixed.flops;
  bytes += fixed.bytes;
  r.mfu = flops / (r.step_s.mean * devices * gemm_peak(spec.hardware, d));
  r.mbu = bytes / (r.step_s.mean * devices * spec.hardware.memory_bandwidth_bytes_per_s);
  r.imbalance_fraction = b.imbalance_s / r.step_s.mean;
  r.usd_per_hour = devices * spec.hardware.usd_per_hour;
  r.usd_per_million_tokens = r.usd_per_hour / (r.tokens_per_s * 3600.0) * 1e6;
  r.memory = cost.memory(placement);
  return r;
}

}  // namespace moesim
