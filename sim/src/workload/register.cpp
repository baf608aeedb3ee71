// PLACEHOLDER until the workload helper lands its workloads.
#include "moesim/registries.hpp"
namespace moesim {
void register_builtin_workloads(WorkloadRegistry&) {}
}
