// config/deployment_config.hpp: the `deployment` and `published` sections (private to config/).
#pragma once

#include "moesim/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace moesim::config {

// Reads `deployment` (absent: throughput model off). Needs the cluster and hardware resolved; checks
// dp * tp = devices for attention and experts, dtypes the hardware supports, and so on.
DeploymentSpec deployment_from_node(const YAML::Node& n, const ScenarioSpec& s, const std::string& file);

std::vector<PublishedFigure> published_from_node(const YAML::Node& n, const std::string& file);

}  // namespace moesim::config
