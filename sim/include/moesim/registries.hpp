// moesim/registries.hpp: every plug-in registry, filled by one explicit function.
#pragma once

#include "moesim/cost.hpp"
#include "moesim/placement.hpp"
#include "moesim/router.hpp"
#include "moesim/workload.hpp"

namespace moesim {

struct Registries {
  RouterRegistry routers{"router"};
  PlacementRegistry placements{"placement"};
  WorkloadRegistry workloads{"workload"};
  CostModelRegistry cost_models{"cost model"};
};

// Registers the built-in routers, placements and workloads (no static initialisers).
void register_builtins(Registries& reg);
void register_builtin_routers(RouterRegistry& reg);        // src/routing/
void register_builtin_placements(PlacementRegistry& reg);  // src/placement/
void register_builtin_workloads(WorkloadRegistry& reg);    // src/workload/
// register_builtin_cost_models is declared in cost.hpp (src/cost/).

// A process-wide, immutable set of the built-ins (built on first use).
const Registries& builtin_registries();

}  // namespace moesim
