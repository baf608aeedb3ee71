// moesim/plan.hpp: capacity planning. For each candidate hardware, device count, parallel layout and
// batch size, cost the scenario and keep the cheapest setup that meets a throughput target and a latency
// objective on the p99 step time (headroom for imbalance), plus the Pareto frontier of throughput per
// device against latency.
#pragma once

#include "moesim/registries.hpp"
#include "moesim/simulator.hpp"

#include <string>
#include <vector>

namespace moesim {

struct PlanRequest {
  ScenarioSpec base;                      // model, router, placement, workload, deployment phase and dtypes
  std::vector<HardwareSpec> hardware;     // candidates
  std::vector<int> devices;               // device counts per replica to try
  std::vector<int> batch_per_device;      // decode: sequences per device; prefill: prompt tokens per device
  std::vector<int> tensor_parallel = {1, 2, 4, 8};  // attention TP and expert TP degrees to try
  double target_tokens_per_s = 0;         // whole deployment: output tokens/s (decode) or input (prefill)
  double max_tpot_s = 0;                  // decode objective on the p99 step; 0 = none
  double max_ttft_s = 0;                  // prefill objective on the p99 step; 0 = none
  int sample_steps = 2, sample_layers = 2;  // routing samples per candidate (reused across hardware/layouts)
  int threads = 0;
};

struct PlanCandidate {
  std::string hardware;
  int devices = 0, attention_tp = 1, expert_tp = 1;
  int64_t batch_per_device = 0, tokens_per_step = 0;
  bool fits = false;                // in device memory
  std::string rejected;             // why it was not costed ("" when costed)
  double step_p99_s = 0, latency_p99_s = 0;  // latency: TPOT (decode) or TTFT (prefill) at the p99 step
  double tokens_per_s = 0, tokens_per_s_per_device = 0;  // at the p99 step time
  bool meets_latency = false;
  int replicas = 0;                 // copies of this setup needed for the target
  double usd_per_hour = 0;          // replicas x devices x price
  double usd_per_million_tokens = 0;
  bool on_frontier = false;         // Pareto: no other candidate of its hardware is faster per device at lower latency
};

struct PlanResult {
  std::vector<PlanCandidate> candidates;  // in a fixed order (hardware, devices, tp, etp, batch)
  std::vector<int> best;                  // per hardware (request order): index of the cheapest meeting the
                                          // objectives, or -1 when none does
  int routing_samples = 0;                // distinct routing inputs routed (the rest were reused)
};

PlanResult plan(const PlanRequest& req, const Registries& reg);

}  // namespace moesim
