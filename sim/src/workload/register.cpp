// workload/register.cpp: the built-in workloads.
#include "moesim/registries.hpp"
#include "workload/synthetic.hpp"

namespace moesim {

void register_builtin_workloads(WorkloadRegistry& reg) {
  reg.add("synthetic",
          "logits = log popularity (uniform, zipf or lognormal) + Gumbel noise: top-k samples experts by popularity",
          [](const WorkloadInput& in) { return workload_detail::make_synthetic_workload(in); });
}

}  // namespace moesim
