// config/placement_weights.hpp: per-layer EPLB weights from a file (private to the library: config/ and,
// for `moesim place`, sim/cli). Two sources, both giving one row of per-expert loads per MoE layer:
//   weights_file: W.json   {"weight": [[...], ...]}, layers x logical experts, the format `moesim place`
//                          and DeepSeek's EPLB read
//   weights_from_trace: P  a counts trace (SGLang JSON or TensorRT-LLM, as workload trace_counts reads it),
//                          each expert's hits summed over weights_steps [first, end) (all steps by default),
//                          as TensorRT-LLM's generate_eplb_config.py sums its statistics window
// Rows: one per MoE layer, or one per block of the model with the leading dense blocks skipped (as SGLang
// records every block); any other count is an error naming the file. Row r places MoE layer r.
#pragma once

#include "config/yaml_util.hpp"
#include "moesim/scenario.hpp"

#include <string>
#include <vector>

namespace moesim::config {

// W.json -> [layers][experts] as written: any non-empty list of lists of JSON numbers. Errors name the
// file and weight[l][e]; the caller checks the shape and values against what it needs.
std::vector<std::vector<double>> read_weight_matrix(const std::string& path);

// Reads placement keys weights_file, weights_from_trace and weights_steps (when present in f) into p,
// resolving paths against `file` (the scenario) and filling p.layer_weight [MoE layers][experts].
// Errors name the key (as written in f) or the weights file with its field.
void read_placement_weights(const FieldMap& f, const std::string& key, const ModelSpec& model,
                            const std::string& file, PlacementSpec& p);

}  // namespace moesim::config
