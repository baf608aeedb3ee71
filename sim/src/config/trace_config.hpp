// config/trace_config.hpp: the trace keys of a workload section, `path` and `format` (private to config/).
#pragma once

#include "config/yaml_util.hpp"
#include "moesim/scenario.hpp"

#include <string>

namespace moesim::config {

// Checks and completes the trace keys of a setup's workload: trace_counts and trace_tokens need `path`
// (resolved here against the directory of `file`, the scenario file, and required to exist) and a
// `format` that fits the workload (inferred from the name when absent: a directory or meta_info.json ->
// trtllm, .json -> sglang_json, .csv -> csv, .npy -> npy); other workloads may not set them.
// path_key / format_key: where the keys were (or would be) written.
void check_trace_workload(WorkloadSpec& w, const std::string& path_key, const std::string& format_key,
                          const std::string& file);

// A trace workload replays recorded routing decisions and bypasses the router, so keys that only act
// through the router or the synthetic logits would silently do nothing: router.bias_update_speed,
// router.voted_experts, and every synthetic workload key (popularity, ..., drift) written for a setup
// with workload trace_counts / trace_tokens are errors naming the key. No-op for other workloads.
void check_trace_setup(const WorkloadSpec& w, const FieldMap& router, const FieldMap& workload,
                       const std::string& file);

}  // namespace moesim::config
