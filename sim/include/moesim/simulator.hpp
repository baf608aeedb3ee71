// moesim/simulator.hpp: wires workload -> router -> placement -> metrics for every setup.
#pragma once

#include "moesim/cost.hpp"
#include "moesim/metrics.hpp"
#include "moesim/registries.hpp"
#include "moesim/scenario.hpp"

#include <array>
#include <vector>

namespace moesim {

// What one step costs on the scenario's hardware (present when the scenario has a deployment).
// Times in seconds per step; breakdown parts are means over devices and add up to the mean step time.
// Training: a step is deployment.training.micro_batches micro-batches of run.tokens_per_step tokens through
// every pipeline stage; devices count every stage's devices (cluster.devices x pipeline_stages).
struct ThroughputResult {
  bool enabled = false;
  Distribution step_s;  // over steps: wall time (slowest device in every layer)
  struct Breakdown {
    double attention_s = 0, shared_experts_s = 0, routed_experts_s = 0, router_s = 0, tp_comm_s = 0;  // MoE blocks
    double dense_attention_s = 0, dense_ffn_s = 0;  // dense blocks (their TP all-reduce included)
    double dense_layers_s = 0;                      // dense_attention_s + dense_ffn_s
    double dispatch_s = 0, combine_s = 0;     // whole transfers (mean device), hidden or not
    double exposed_comm_s = 0, hidden_comm_s = 0;
    double mtp_s = 0, embedding_s = 0, lm_head_s = 0, overhead_s = 0;  // overhead: per-step host overhead
    double imbalance_s = 0;                   // slowest device minus mean device, summed over layers
    double optimizer_s = 0, grad_sync_s = 0, exposed_grad_sync_s = 0, pipeline_bubble_s = 0;  // training
    double forward_s = 0, backward_s = 0;     // training: the passes' shares of the blocks, embedding and LM head
  } breakdown;                                // means over steps
  double dispatch_per_layer_s = 0, combine_per_layer_s = 0;  // one MoE layer's transfers (mean device)
  // One MoE layer's forward dispatch / combine bytes over each link (mean device) over its transfer time, as
  // DeepEP reports bandwidth (NVLink bytes for intranode runs, RDMA bytes for internode ones); 0 when unused.
  double dispatch_scale_up_bytes_per_s = 0, dispatch_scale_out_bytes_per_s = 0;
  double combine_scale_up_bytes_per_s = 0, combine_scale_out_bytes_per_s = 0;
  double tokens_per_step = 0;                 // tokens through the model per step
  double output_tokens_per_step = 0;          // decode: sequences x (1 + accepted drafts); prefill, training: tokens
  double tokens_per_s = 0, tokens_per_s_per_device = 0;  // output tokens (decode), input (prefill), trained (training)
  double tokens_per_s_per_node = 0;           // tokens_per_s / nodes (ceil(devices / devices_per_node))
  double ttft_s = 0, tpot_s = 0;              // prefill: time to first token; decode: time per output token
  double mfu = 0, mbu = 0;                    // model FLOPs / all HBM bytes over the nominal peaks
  double imbalance_fraction = 0;              // imbalance_s / mean step time
  double usd_per_hour = 0;                    // devices x the hardware preset's price per device-hour
  double usd_per_million_tokens = 0;          // usd_per_hour / (tokens_per_s x 3600) x 1e6, the phase's tokens
  double usd_per_million_input_tokens = 0;    // prefill only (0 otherwise)
  double usd_per_million_output_tokens = 0;   // decode only (0 otherwise)
  double usd_per_trillion_training_tokens = 0;  // training only (0 otherwise)
  MemoryFootprint memory;                     // per device
};

// One in-simulation EPLB rebalance (placement.warmup_steps / rebalance_every).
struct RebalanceRecord {
  int64_t step = 0;             // the first step that ran on the new placement
  int64_t window_steps = 0;     // steps whose loads it was computed from
  int64_t moved_experts = 0;    // expert copies that appeared on a device not holding them, all layers
  int64_t migration_bytes = 0;  // moved_experts x one routed expert's parameter bytes
};

struct SetupResult {
  SetupSpec spec;
  std::array<Distribution, kNumMetrics> overall;                 // over every (step, layer)
  std::vector<std::array<Distribution, kNumMetrics>> per_layer;  // [layers], over steps
  std::vector<MetricValues> per_step;                            // [steps], mean over layers
  std::vector<std::vector<Distribution>> expert_tokens;          // [layers, experts] kept assignments, over steps
  std::vector<Distribution> device_assignments;                  // [devices] kept assignments, over (step, layer)
  std::vector<std::vector<double>> expert_tokens_mean;           // [layers, experts] expert_tokens[l][e].mean
  std::vector<double> device_assignments_mean;                   // [devices] device_assignments[d].mean
  int64_t requested = 0, dropped = 0;                            // totals over the run
  std::vector<RebalanceRecord> rebalances;                       // in-simulation EPLB, in step order
  int64_t migration_bytes = 0;                                   // sum over rebalances
  ThroughputResult throughput;
};

struct ScenarioResult {
  ScenarioSpec scenario;
  std::vector<SetupResult> setups;
};

// Runs every setup of the scenario on the same token stream (same seed, same logits wherever the
// workloads are equal). Deterministic: the result does not depend on scenario.run.threads.
ScenarioResult simulate(const ScenarioSpec& scenario, const Registries& reg);

// Builds everything simulate() would (routers, placements, workloads and their traces, the cost model
// and its memory check) without running a step, so every error a run would raise is raised here.
// `moesim validate` calls it.
void check_scenario(const ScenarioSpec& scenario, const Registries& reg);

}  // namespace moesim
