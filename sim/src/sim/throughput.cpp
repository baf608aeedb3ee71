#include "sim/throughput.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moesim {

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

const char* batch_unit(Phase p) { return p == Phase::decode ? " sequences" : " tokens"; }

}  // namespace

std::unique_ptr<CostModel> make_cost_model(const ScenarioSpec& spec, const Registries& reg, const Placement& placement,
                                           const std::string& setup_key) {
  CostInput in{spec.model, spec.hardware, spec.deployment, spec.cluster.devices, spec.cluster.devices_per_node,
               spec.run.tokens_per_step};
  auto cost = reg.cost_models.get(spec.cost_model, spec.file, "deployment.cost_model").factory(in);
  const MemoryFootprint mem = cost->memory(placement);
  if (mem.total() > mem.capacity) {
    std::string parts = "weights " + gib(mem.weights);
    if (mem.gradients > 0) parts += ", gradients " + gib(mem.gradients) + ", optimizer states " + gib(mem.optimizer);
    if (mem.kv_cache > 0 || spec.deployment.phase != Phase::training) parts += ", KV cache " + gib(mem.kv_cache);
    throw Error(spec.file, "run.tokens_per_step", std::to_string(spec.run.tokens_per_step),
                setup_key + " needs " + gib(mem.total()) + " per device (" + parts + ", activations " +
                    gib(mem.activations) + ") but " + spec.hardware.name + " has " + gib(mem.capacity) + ": over by " +
                    gib(mem.total() - mem.capacity) + "; the largest batch that fits is " +
                    std::to_string(mem.max_batch) + batch_unit(spec.deployment.phase));
  }
  return cost;
}

ThroughputResult summarize_throughput(const ScenarioSpec& spec, const CostModel& cost, const Placement& placement,
                                      const std::vector<LayerCost>& costs, int layers) {
  ThroughputResult r;
  r.enabled = true;
  const DeploymentSpec& d = spec.deployment;
  const bool training = d.phase == Phase::training;
  const int steps = spec.run.steps;
  // Simulated layers stand for all MoE layers (a dense model has none).
  const double scale = layers > 0 ? double(spec.model.moe_layers()) / layers : 0.0;
  const FixedCost fixed = cost.fixed();
  // Training: each step runs `micro_batches` micro-batches through `stages` pipeline stages, which the
  // simulated devices stand for; 1F1B adds (stages - 1) micro-batch slots of bubble.
  const double stages = training ? std::max(1, d.training.pipeline_stages) : 1.0;
  const double micro = training ? std::max(1, d.training.micro_batches) : 1.0;
  const double useful = micro / stages, bubble = (stages - 1.0) / stages;
  auto& b = r.breakdown;
  std::vector<double> step_s(steps);
  double flops = 0, bytes = 0, forward = 0, compute_total = 0;
  double link_bytes[4] = {0, 0, 0, 0};  // dispatch up, dispatch out, combine up, combine out; per layer
  double forward_link_s[2] = {0, 0};     // the forward dispatch and combine per layer, the bytes' transfers
  for (int t = 0; t < steps; ++t) {
    double slowest = 0, mean = 0, fwd = 0;
    for (int l = 0; l < layers; ++l) {
      const LayerCost& c = costs[size_t(t) * layers + l];
      slowest += c.slowest_s;
      mean += c.mean_device_s;
      fwd += c.forward_s;
      const double k = scale * useful / steps;
      b.attention_s += c.attention_s * k;
      b.shared_experts_s += c.shared_s * k;
      b.routed_experts_s += c.routed_s * k;
      b.router_s += c.overhead_s * k;
      b.tp_comm_s += c.tp_comm_s * k;
      b.dispatch_s += c.dispatch_s * k;
      b.combine_s += c.combine_s * k;
      b.exposed_comm_s += c.exposed_comm_s * k;
      r.dispatch_per_layer_s += c.dispatch_s / (double(steps) * layers);
      r.combine_per_layer_s += c.combine_s / (double(steps) * layers);
      const double per = 1.0 / (double(steps) * layers);
      link_bytes[0] += c.dispatch_scale_up_bytes * per, link_bytes[1] += c.dispatch_scale_out_bytes * per;
      link_bytes[2] += c.combine_scale_up_bytes * per, link_bytes[3] += c.combine_scale_out_bytes * per;
      forward_link_s[0] += c.dispatch_forward_s * per, forward_link_s[1] += c.combine_forward_s * per;
      flops += c.flops * scale * micro / steps;
      bytes += c.bytes * scale * micro / steps;
    }
    // Multi-token prediction: one extra MoE block per draft token (DeepSeek-V3's MTP module).
    const double mtp = layers > 0 ? d.mtp_tokens * slowest / layers : 0.0;
    const double compute = slowest * scale + mtp + fixed.dense_layers_s() + fixed.embedding_s + fixed.lm_head_s;
    b.mtp_s += mtp * useful / steps;
    b.imbalance_s += (slowest - mean) * scale * useful / steps;
    b.pipeline_bubble_s += compute * bubble / steps;
    forward += ((layers > 0 ? fwd * (scale + double(d.mtp_tokens) / layers) : 0.0) + fixed.forward_s) * useful / steps;
    compute_total += compute * useful / steps;
    step_s[t] = compute * (useful + bubble) + fixed.overhead_s;
  }
  b.hidden_comm_s = std::max(0.0, b.dispatch_s + b.combine_s - b.exposed_comm_s);  // rounding can dip below 0
  // The link bytes are the forward transfers': divided by the forward transfers' time (training's
  // backward sends bf16 gradients, which may differ from an fp8 dispatch).
  if (forward_link_s[0] > 0) {
    r.dispatch_scale_up_bytes_per_s = link_bytes[0] / forward_link_s[0];
    r.dispatch_scale_out_bytes_per_s = link_bytes[1] / forward_link_s[0];
  }
  if (forward_link_s[1] > 0) {
    r.combine_scale_up_bytes_per_s = link_bytes[2] / forward_link_s[1];
    r.combine_scale_out_bytes_per_s = link_bytes[3] / forward_link_s[1];
  }
  b.dense_attention_s = fixed.dense_attention_s * useful;
  b.dense_ffn_s = fixed.dense_ffn_s * useful;
  b.dense_layers_s = b.dense_attention_s + b.dense_ffn_s;
  b.embedding_s = fixed.embedding_s * useful;
  b.lm_head_s = fixed.lm_head_s * useful;
  b.overhead_s = fixed.overhead_s;
  if (training) {
    b.forward_s = forward;
    b.backward_s = compute_total - forward;
    b.optimizer_s = fixed.optimizer_s;
    b.grad_sync_s = fixed.grad_sync_s;
    // With deployment.overlap the reduction runs beside the backward pass (bucketed, as DDP does).
    b.exposed_grad_sync_s = d.overlap ? std::max(0.0, fixed.grad_sync_s - b.backward_s) : fixed.grad_sync_s;
    for (double& s : step_s) s += b.optimizer_s + b.exposed_grad_sync_s;
  }
  r.step_s = summarize(step_s);
  const double devices = double(spec.cluster.devices) * stages;
  const double nodes = std::ceil(devices / std::max(1, spec.cluster.devices_per_node));
  r.tokens_per_step = double(spec.run.tokens_per_step) * micro;
  if (d.phase == Phase::decode) {
    const double seqs = r.tokens_per_step / (1 + d.mtp_tokens);
    const double per_seq = 1.0 + d.mtp_acceptance * d.mtp_tokens;
    r.output_tokens_per_step = seqs * per_seq;
    r.tpot_s = r.step_s.mean / per_seq;
  } else {
    r.output_tokens_per_step = r.tokens_per_step;
    if (d.phase == Phase::prefill) r.ttft_s = r.step_s.mean;
  }
  r.tokens_per_s = r.output_tokens_per_step / r.step_s.mean;
  r.tokens_per_s_per_device = r.tokens_per_s / devices;
  r.tokens_per_s_per_node = r.tokens_per_s / nodes;
  flops += fixed.flops * micro;
  bytes += fixed.bytes * micro;
  r.mfu = flops / (r.step_s.mean * devices * gemm_peak_flops(spec.hardware, d));
  r.mbu = bytes / (r.step_s.mean * devices * spec.hardware.memory_bandwidth_bytes_per_s);
  r.imbalance_fraction = b.imbalance_s / r.step_s.mean;
  r.usd_per_hour = devices * spec.hardware.usd_per_hour;
  const double usd_per_token = r.usd_per_hour / (r.tokens_per_s * 3600.0);
  r.usd_per_million_tokens = usd_per_token * 1e6;
  if (d.phase == Phase::prefill) r.usd_per_million_input_tokens = usd_per_token * 1e6;
  if (d.phase == Phase::decode) r.usd_per_million_output_tokens = usd_per_token * 1e6;
  if (training) r.usd_per_trillion_training_tokens = usd_per_token * 1e12;
  r.memory = cost.memory(placement);
  return r;
}

}  // namespace moesim
