// config/overrides.hpp: --set "key.path=value" overrides, applied to the YAML tree before conversion.
#pragma once

#include "moesim/error.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace moesim::config {

// Applies each override to `root` (a mapping) in order. A path may index lists (setups[1].router.k
// or setups.1.router.k); `model.<key>=v` on a preset name turns the model into {preset: NAME, <key>: v},
// and `cluster.hardware.<key>=v` on a hardware preset name does the same for the hardware.
// The value is parsed as YAML (so "[1, 2]" is a list). A path outside the scenario schema, a list
// index out of range or a malformed override throws Error("--set", path, override, problem).
// Returns each override's path in canonical form ("setups[1].router.k").
std::vector<std::string> apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides);

// True if `e` is about a value an override wrote (its key is a touched path or lies below one).
bool blames_override(const Error& e, const std::vector<std::string>& touched);

}  // namespace moesim::config
