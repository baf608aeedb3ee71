// config/hardware_config.hpp: HardwareSpec from a preset name or an inline mapping (private to config/).
#pragma once

#include "moesim/hardware.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace moesim::config {

// `n` at `key`: a preset name (configs/hardware/<name>.yaml), or a mapping {preset: NAME, ...} whose
// keys override the preset's key by key (nested sections merge: `calibrated: {gemm: {value: 0.7}}`
// keeps every other calibrated entry and that entry's source).
HardwareSpec hardware_from_node(const YAML::Node& n, const std::string& file, const std::string& key,
                                const std::vector<std::string>& dirs);

}  // namespace moesim::config
