// config/setup_config.hpp: one setup (router, placement, capacity, workload) from the merged defaults
// and the setup's own keys (private to config/).
#pragma once

#include "config/yaml_util.hpp"
#include "moesim/registries.hpp"
#include "moesim/scenario.hpp"

#include <string>

namespace moesim::config {

// Each section's keys: the scenario's defaults, replaced key by key by the setup's own values.
struct SetupFields {
  FieldMap router, placement, capacity, workload;
};

struct SetupContext {
  const ModelSpec& model;
  const ClusterSpec& cluster;
  const Registries& reg;
  const std::string& file;
};

// prefix: "setups[i]", or "" for the implicit setup of a scenario without `setups` (whose sections
// are the top-level defaults). Fills router defaults from the model, then validates every name
// against the registries and the router's constraints (RouterEntry::validate).
SetupSpec make_setup(const std::string& name, const SetupFields& fields, const std::string& prefix,
                     const SetupContext& ctx);

}  // namespace moesim::config
