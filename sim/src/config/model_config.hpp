// config/model_config.hpp: ModelSpec from a preset name or an inline mapping (private to config/).
#pragma once

#include "moesim/model.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace moesim::config {

// The scenario's `model` value at `key`: a preset name (configs/models/<name>.yaml), or a mapping of
// model keys, optionally starting from `preset: NAME` whose values the other keys override.
// Validates the result (counts, top_k <= num_experts, num_groups divides num_experts, ...).
ModelSpec model_from_node(const YAML::Node& n, const std::string& file, const std::string& key,
                          const std::vector<std::string>& dirs);

// Path of <dir>/<kind>/<name>.yaml in the first dir that has it, or "" (also for unsafe names).
std::string find_preset_file(const std::string& kind, const std::string& name, const std::vector<std::string>& dirs);

}  // namespace moesim::config
