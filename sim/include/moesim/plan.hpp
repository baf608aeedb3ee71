// moesim/plan.hpp: capacity planning. For each candidate hardware, device count, parallel layout, batch
// size and setup (router + placement) of the scenario, cost the scenario and keep the cheapest setup that
// meets a throughput target and latency limits on the p99 step time (headroom for imbalance), plus the
// Pareto frontier of throughput per device against latency. Prefill and decode are planned as the
// scenario's phase alone, as two pools (disaggregated) or as one pool doing both (colocated).
#pragma once

#include "moesim/html_report.hpp"
#include "moesim/registries.hpp"
#include "moesim/simulator.hpp"

#include <string>
#include <vector>

namespace moesim {

enum class PlanMode {
  phase,          // the scenario's deployment.phase alone (the target and limit are that phase's)
  disaggregated,  // a prefill pool meeting TTFT and a decode pool meeting TPOT, each sized apart, costs added
  colocated,      // one pool that prefills and decodes by turns, meeting both limits
};

// "phase", "disaggregated", "colocated" (the --mode values and the plan JSON's `mode`).
const char* to_string(PlanMode m);

struct PlanRequest {
  ScenarioSpec base;                      // model, setups (router, placement, workload), deployment dtypes
  std::vector<HardwareSpec> hardware;     // candidates, prices as the caller set them (price_source says whence)
  std::vector<int> devices;               // device counts per replica to try
  std::vector<int> decode_batch;          // decode: sequences per device
  std::vector<int> prefill_batch;         // prefill: prompt tokens per device
  std::vector<int> tensor_parallel = {1, 2, 4, 8};  // attention TP and expert TP degrees to try
  PlanMode mode = PlanMode::phase;
  int64_t input_tokens = 0, output_tokens = 0;  // per request, disaggregated and colocated: prompt and answer
  double target_tokens_per_s = 0;         // phase: output tokens/s (decode) or input tokens/s (prefill);
                                          // disaggregated, colocated: output tokens/s of the whole deployment
  double max_tpot_s = 0;                  // decode limit on the p99 step; 0 = none
  double max_ttft_s = 0;                  // prefill limit on the p99 step; 0 = none
  int sample_steps = 2, sample_layers = 2;  // routed batches per routing input (shared across candidates)
  // A routing sample holds at most this many tokens per expert-parallel rank; a bigger batch is costed from
  // the sample's loads scaled by batch / sample (see plan_sampling_note()). 0 = never cap.
  int64_t sample_tokens_per_rank = 1024;
  int threads = 0;
};

// One pool of one phase: a hardware, a device count, a layout, a batch and a setup.
struct PlanCandidate {
  Phase phase = Phase::decode;
  std::string hardware;
  int setup = 0;                    // index into base.setups
  int devices = 0, attention_tp = 1, expert_tp = 1;
  int64_t batch_per_device = 0;     // decode: sequences; prefill: prompt tokens
  int64_t tokens_per_step = 0;
  int64_t routed_tokens = 0;        // tokens in each routing sample (tokens_per_step unless capped)
  std::string rejected;             // why it was not costed ("" when costed)
  double step_p99_s = 0;
  double latency_p99_s = 0;         // decode: TPOT at the p99 step; prefill: TTFT = p99 step x steps per prompt
                                    // (disaggregated: plus kv_handoff_s)
  double kv_handoff_s = 0;          // disaggregated prefill: one prompt's KV cache sent to the decode pool
  double tokens_per_s = 0, tokens_per_s_per_device = 0;  // one replica at the p99 step time
  bool meets_latency = false;
  int replicas = 0;                 // copies of this pool for its phase's share of the target
  double usd_per_hour = 0;          // replicas x devices x price
  double usd_per_million_tokens = 0;  // one replica at full load: output tokens (decode) or input (prefill)
  MemoryFootprint memory;           // per device
  bool on_frontier = false;         // Pareto: none of its hardware and phase is faster per device at lower latency
};

// What the planner recommends for one hardware (or, for `cheapest`, over every hardware).
struct PlanChoice {
  std::string hardware;             // disaggregated `cheapest`: "A (prefill) + B (decode)" when they differ
  bool meets = false;
  std::string reason;               // why nothing meets ("" when meets); the pools are then the nearest miss
  int setup = -1;                   // the setup (router) chosen; -1 when nothing could be costed
  int prefill = -1, decode = -1;    // candidate indices (phase mode: one of them; otherwise both)
  int replicas = 0;                 // colocated: copies of the shared pool
  double prefill_fraction = 0;      // colocated: share of the pool's time spent prefilling
  double tpot_s = 0, ttft_s = 0;    // as the user sees them (colocated: decode steps stretched by prefills)
  double usd_per_hour = 0;          // every pool at the target
  double usd_per_million_tokens = 0;  // usd_per_hour over the target rate (phase mode: the phase's tokens;
                                      // otherwise output tokens, prefill included)
};

struct PlanResult {
  std::vector<PlanCandidate> candidates;  // fixed order: phase, hardware, devices, tp, etp, batch, setup
  std::vector<PlanChoice> best;           // per hardware (request order), over every setup
  std::vector<std::vector<PlanChoice>> best_per_setup;  // [hardware][setup]
  PlanChoice cheapest;                    // over every hardware
  int routing_samples = 0;                // distinct routing inputs routed (the rest reused their samples)
  int capped_samples = 0;                 // of those, how many were capped at sample_tokens_per_rank
};

PlanResult plan(const PlanRequest& req, const Registries& reg);

// Disaggregated mode: seconds to send one prompt's KV cache (prompt_tokens long) from a prefill pool on
// `hw` to the decode pool, added to the prefill pool's TTFT; +inf when hw has no scale-out link
// (planner.cpp gives the model and its sources).
double kv_handoff_seconds(const ModelSpec& m, const DeploymentSpec& d, const HardwareSpec& hw, int64_t prompt_tokens);

// How the p99 step times were obtained, in one paragraph for people (sample sizes, the cap and its effect).
std::string plan_sampling_note(const PlanRequest& req, const PlanResult& r);

// Pareto frontier of (latency, throughput) points: true where no other point has lower-or-equal latency
// and higher-or-equal throughput, one of them strictly. O(n log n).
std::vector<bool> pareto_frontier(const std::vector<double>& latency, const std::vector<double>& throughput);
// pareto_frontier within groups: points compete only with those of the same group[i]; a point with
// include[i] false is in no group and never on a frontier. All four: one entry per point.
std::vector<bool> pareto_frontier_by_group(const std::vector<std::string>& group, const std::vector<bool>& include,
                                           const std::vector<double>& latency, const std::vector<double>& throughput);
// The same over ParetoPoints, separately per hardware; sets on_frontier.
void mark_pareto_frontier(std::vector<ParetoPoint>& points);

}  // namespace moesim
