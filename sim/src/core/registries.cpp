#include "moesim/registries.hpp"

namespace moesim {

void register_builtins(Registries& reg) {
  register_builtin_routers(reg.routers);
  register_builtin_placements(reg.placements);
  register_builtin_workloads(reg.workloads);
  register_builtin_cost_models(reg.cost_models);
}

const Registries& builtin_registries() {
  static const Registries reg = [] {
    Registries r;
    register_builtins(r);
    return r;
  }();
  return reg;
}

}  // namespace moesim
