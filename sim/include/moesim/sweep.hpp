// moesim/sweep.hpp: grids of scenario variants (the Cartesian product of --grid axes) and the flat
// per-setup figures a sweep writes for each point.
#pragma once

#include "moesim/simulator.hpp"

#include <string>
#include <utility>
#include <vector>

namespace moesim {

struct GridAxis {
  std::string key;                  // a scenario key path, as --set takes it
  std::vector<std::string> values;  // YAML scalars or flow values
};

// "key=v1,v2,v3"; commas inside [] or {} do not split ("placement.device_of_expert=[0,1],[1,0]").
// Throws Error("--grid", text, ...) for a missing '=', an empty key or an empty value.
GridAxis parse_grid_axis(const std::string& text);

// Every point of the product, the last axis varying fastest: point i -> its "key=value" overrides.
std::vector<std::vector<std::string>> grid_points(const std::vector<GridAxis>& axes);

// One setup's figures, flattened: (column, value) in a fixed order. Load balance: each metric's mean and
// p99; with a deployment, every throughput figure as well.
std::vector<std::pair<std::string, double>> flat_figures(const ScenarioResult& r, const SetupResult& s);
std::vector<std::string> flat_columns(bool with_throughput);

}  // namespace moesim
