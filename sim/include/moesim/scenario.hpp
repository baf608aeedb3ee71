// moesim/scenario.hpp: the fully resolved description of one simulation, as plain structs.
// config/ fills these from YAML (applying model defaults); nothing else parses text.
#pragma once

#include "moesim/deployment.hpp"
#include "moesim/hardware.hpp"
#include "moesim/model.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace moesim {

struct RouterSpec {
  std::string name = "topk";  // registry key: topk, moge, group_limited, expert_choice, hash
  int num_experts = 0;        // routed experts (from the model)
  int k = 0;                  // experts per token (model top_k unless overridden)
  int groups = 1;             // expert groups (moge, group_limited)
  int topk_group = 0;         // groups kept per token (group_limited); 0 = all groups
  ScoringFunc scoring = ScoringFunc::softmax;
  GroupScore group_score = GroupScore::max;  // group_limited: group max or top-2 sum of the selection keys
  bool normalize = false;        // renormalise chosen weights to sum 1 (norm_topk_prob)
  double scaling = 1.0;          // routed_scaling_factor applied to the weights
  double capacity_factor = 0.0;  // expert_choice: C = ceil(cf * tokens * k / E); 0 there means 1.0
  // DeepSeek aux-loss-free balancing (arXiv 2412.19437 eq. 16): per-step bias step gamma; 0 = no bias.
  double bias_update_speed = 0.0;
  // Static selection bias per expert [num_experts] (e.g. a measured e_score_correction_bias), or empty.
  // Routers use it when route() gets no bias; with bias_update_speed it is the starting bias.
  std::vector<float> bias;
  int voted_experts = 0;  // moge, 300I Duo voting: experts kept per group per batch; 0 = off
};

// Per-expert capacity applied after any router (GShard / Switch Transformer).
struct CapacitySpec {
  double factor = 0.0;  // 0: unlimited (dropless). Otherwise C = ceil(factor * tokens * k / experts).
};

struct PlacementSpec {
  std::string name = "contiguous";  // registry key: contiguous, round_robin, by_group, explicit, eplb
  std::vector<int> device_of_expert;  // explicit: device per logical expert [num_experts]
  std::vector<int> phy2log;           // explicit with replicas: logical expert per physical slot
  std::vector<int> phy2dev;           // explicit with replicas: device per physical slot
  int replicas = 0;                   // eplb: physical slots in total; 0 = one per logical expert
  std::vector<double> weight;         // eplb: estimated load per logical expert [num_experts]; empty = uniform
  // eplb: estimated load per MoE layer [moe layers][num_experts], one placement per layer; empty = `weight`
  // for every layer. config fills it from weights_file (W.json) or weights_from_trace (a counts trace's
  // hits summed over weights_steps [first, end), all steps when empty); both paths resolved.
  std::vector<std::vector<double>> layer_weight;
  std::string weights_file, weights_from_trace;
  std::vector<int> weights_steps;
  int warmup_steps = 0;     // eplb in a simulation: steps measured before the first rebalance; 0 = none
  int rebalance_every = 0;  // eplb in a simulation: steps between later rebalances; 0 = never
  bool dynamic() const { return warmup_steps > 0 || rebalance_every > 0; }
};

enum class Popularity { uniform, zipf, lognormal };
const char* to_string(Popularity p);

struct WorkloadSpec {
  std::string name = "synthetic";  // registry key
  Popularity popularity = Popularity::uniform;
  double zipf_exponent = 1.0;         // zipf: popularity of rank r ~ r^-s
  double lognormal_sigma = 1.0;       // lognormal: log popularity ~ N(0, sigma^2)
  bool shuffle_layers = true;         // each layer gets its own random order of hot experts
  double layer_sigma = 0.0;           // extra per-layer log-popularity noise (std dev)
  double sequence_correlation = 0.0;  // 0..1: weight of a per-sequence shared preference
  double logit_scale = 1.0;           // logits = scale * (log popularity + noise); shapes the weights only
  double drift = 0.0;                 // per-step std dev of a random walk of each expert's log popularity
  std::string path;    // trace_counts / trace_tokens: the trace (config resolves it against the scenario's directory)
  std::string format;  // trace format: sglang_json, trtllm, csv, npy (config infers it from `path` when absent)
};

struct SetupSpec {
  std::string name;
  RouterSpec router;
  PlacementSpec placement;
  CapacitySpec capacity;
  WorkloadSpec workload;
};

struct ClusterSpec {
  int devices = 8;
  int devices_per_node = 8;
  std::string hardware;  // hardware preset name (throughput model); empty = none
  int nodes() const { return (devices + devices_per_node - 1) / devices_per_node; }
};

struct RunSpec {
  int steps = 100;               // batches simulated per setup
  int64_t tokens_per_step = 4096;  // tokens in one batch (all devices together)
  int tokens_per_sequence = 1;   // consecutive tokens sharing a sequence (1 = decode: one per sequence)
  int layers = 0;                // MoE layers simulated; 0 = all of the model's MoE layers
  int measure_from = 0;          // steps 0 .. measure_from - 1 are a warm-up: simulated, kept in the per-step
                                 // series, left out of every aggregate (metrics, loads, throughput)
  uint64_t seed = 1;
  int threads = 1;               // 0 = all hardware threads; never changes results
};

// A published measurement a validation scenario must reproduce (configs/validation/).
struct PublishedFigure {
  std::string metric;      // a throughput-report key, e.g. "decode_tokens_per_s_per_device"
  double value = 0;        // the published figure, in the metric's unit
  double tolerance = 0.15; // allowed relative error |predicted - published| / published
  std::string source;      // where the figure was published
  // When set: the figure checked is the ratio (case ratio_of's metric) / (this case's metric), predicted
  // and published alike, e.g. MoE throughput over dense throughput on the same hardware.
  std::string ratio_of;
  // "held_out": only judges the model; "calibration": a calibrated hardware value was derived from this
  // figure (the hardware preset's source says which one), so it does not test that value.
  std::string role = "held_out";
  // A held-out figure the model is known not to reproduce (known_miss: {error, reason}): the error it gives
  // (signed) and why. Reported as a miss, not hidden; a change that moves the error away from it shows.
  bool known_miss = false;
  double miss_error = 0;
  std::string miss_reason;
};

struct ScenarioSpec {
  std::string name;
  std::string description;
  std::string file;  // where it came from ("" if built in code)
  ModelSpec model;
  ClusterSpec cluster;
  HardwareSpec hardware;        // resolved from cluster.hardware (empty name: none)
  DeploymentSpec deployment;    // enabled only with a `deployment` section
  std::string cost_model = "roofline";
  RunSpec run;
  std::vector<SetupSpec> setups;
  std::vector<PublishedFigure> published;

  int simulated_layers() const {
    int all = model.moe_layers();
    return (run.layers > 0 && run.layers < all) ? run.layers : all;
  }
};

}  // namespace moesim
