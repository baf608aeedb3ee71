// config/schema.hpp: the keys a scenario file may use, section by section (configs/README.md documents
// each). Used both by the strict converters and by the --set path checker.
#pragma once

#include "moesim/hardware.hpp"

#include <array>
#include <string_view>

namespace moesim::config::schema {

using K = std::string_view;

inline constexpr std::array<K, 12> kTop = {"name",   "description", "model",    "cluster",  "run",
                                           "router", "placement",   "capacity", "workload", "setups",
                                           "deployment", "published"};
inline constexpr std::array<K, 5> kSetup = {"name", "router", "placement", "capacity", "workload"};
inline constexpr std::array<K, 3> kCluster = {"devices", "devices_per_node", "hardware"};
inline constexpr std::array<K, 7> kRun = {"steps", "tokens_per_step", "tokens_per_sequence",
                                          "layers", "seed", "threads", "measure_from"};
inline constexpr std::array<K, 12> kRouter = {"name",    "k",         "groups",  "topk_group",
                                              "scoring", "normalize", "scaling", "capacity_factor",
                                              "bias_update_speed", "voted_experts", "group_score", "bias"};
inline constexpr std::array<K, 11> kPlacement = {"name",    "device_of_expert", "phy2log",      "phy2dev",
                                                 "replicas", "weight",          "warmup_steps", "rebalance_every",
                                                 "weights_file", "weights_from_trace", "weights_steps"};
inline constexpr std::array<K, 1> kCapacity = {"factor"};
inline constexpr std::array<K, 11> kWorkload = {"name",           "popularity",  "zipf_exponent",
                                                "lognormal_sigma", "shuffle_layers", "layer_sigma",
                                                "sequence_correlation", "logit_scale", "drift",
                                                "path",           "format"};

// ModelSpec fields (HuggingFace-like names); an inline model may also say `preset` or `hf_config` (a
// HuggingFace config.json, relative to the scenario file).
inline constexpr std::array<K, 29> kModel = {
    "name",          "description",        "source",           "num_layers",         "first_dense_layers",
    "hidden",        "vocab",              "attention",        "num_heads",          "num_kv_heads",
    "head_dim",      "q_lora_rank",        "kv_lora_rank",     "qk_nope_head_dim",   "qk_rope_head_dim",
    "v_head_dim",    "dense_intermediate", "num_experts",      "top_k",              "num_groups",
    "topk_group",    "num_shared_experts", "shared_intermediate", "moe_intermediate", "scoring",
    "norm_topk_prob", "routed_scaling_factor", "router", "group_score"};
inline constexpr std::array<K, 31> kInlineModel = {
    "preset",        "hf_config",          "name",               "description",      "source",             "num_layers",
    "first_dense_layers", "hidden",        "vocab",            "attention",          "num_heads",
    "num_kv_heads",  "head_dim",           "q_lora_rank",      "kv_lora_rank",       "qk_nope_head_dim",
    "qk_rope_head_dim", "v_head_dim",      "dense_intermediate", "num_experts",      "top_k",
    "num_groups",    "topk_group",         "num_shared_experts", "shared_intermediate", "moe_intermediate",
    "scoring",       "norm_topk_prob",     "routed_scaling_factor", "router", "group_score"};

// deployment: (config/deployment_config.cpp) and its nested mappings.
inline constexpr std::array<K, 11> kDeployment = {"phase",  "context_length", "attention",  "experts", "shared_experts",
                                                  "dtypes", "overlap",        "all_to_all", "mtp",     "cost_model",
                                                  "training"};
inline constexpr std::array<K, 2> kDeploymentAttention = {"dp", "tp"};
inline constexpr std::array<K, 2> kDeploymentExperts = {"ep", "tp"};
inline constexpr std::array<K, 1> kDeploymentShared = {"tp"};
inline constexpr std::array<K, 5> kDeploymentDtypes = {"weights", "activations", "kv_cache", "dispatch", "combine"};
inline constexpr std::array<K, 2> kDeploymentMtp = {"tokens", "acceptance"};
inline constexpr std::array<K, 4> kDeploymentTraining = {"zero_shards", "recompute", "pipeline_stages", "micro_batches"};
inline constexpr std::array<K, 7> kPublished = {"metric", "value", "tolerance", "source", "ratio_of", "role", "known_miss"};
inline constexpr std::array<K, 2> kPublishedMiss = {"error", "reason"};

// A hardware preset file (config/hardware_config.cpp); an inline cluster.hardware mapping may also say
// `preset` (kHardwareInline) and then overrides the preset key by key.
inline constexpr std::array<K, 6> kHardware = {"name", "description", "source", "nominal", "calibrated", "price"};
inline constexpr std::array<K, 7> kHardwareInline = {"preset", "name", "description", "source", "nominal", "calibrated", "price"};
inline constexpr std::array<K, 8> kHardwareNominal = {"flops_bf16",       "flops_fp8",        "flops_int8", "memory_bytes",
                                                      "memory_bandwidth", "devices_per_node", "scale_up",   "scale_out"};
inline constexpr std::array<K, 3> kHardwareLink = {"name", "bandwidth", "latency"};
// The calibrated efficiencies' keys: those of kEfficiencyFields (moesim/hardware.hpp), in its order.
inline constexpr auto kHardwareCalibrated = [] {
  std::array<K, kEfficiencyFields.size()> keys{};
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = kEfficiencyFields[i].key;
  return keys;
}();
inline constexpr std::array<K, 2> kHardwareEntry = {"value", "source"};
inline constexpr std::array<K, 3> kHardwarePrice = {"usd_per_hour", "source", "date"};

inline constexpr std::array<K, 2> kScoring = {"softmax", "sigmoid"};
inline constexpr std::array<K, 2> kGroupScore = {"max", "top2_sum"};  // GroupScore, in enum order
inline constexpr std::array<K, 2> kAttention = {"gqa", "mla"};
inline constexpr std::array<K, 3> kPopularity = {"uniform", "zipf", "lognormal"};
// Trace formats (workload.format): counts-only (trace_counts) and per-token (trace_tokens).
inline constexpr std::array<K, 4> kTraceFormat = {"sglang_json", "trtllm", "csv", "npy"};

}  // namespace moesim::config::schema
