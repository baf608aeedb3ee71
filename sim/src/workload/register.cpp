// workload/register.cpp: the built-in workloads.
#include "moesim/registries.hpp"
#include "workload/synthetic.hpp"
#include "workload/trace_file.hpp"

namespace moesim {

void register_builtin_workloads(WorkloadRegistry& reg) {
  reg.add("synthetic",
          "logits = log popularity (uniform, zipf or lognormal) + Gumbel noise: top-k samples experts by popularity",
          [](const WorkloadInput& in) { return workload_detail::make_synthetic_workload(in); });
  reg.add("trace_counts",
          "replays recorded expert counts [steps][layers][experts] (SGLang logical_count JSON, TensorRT-LLM "
          "meta_info.json + rank*.safetensors), bypassing the router: loads exact, destinations per token synthetic",
          [](const WorkloadInput& in) { return trace::make_counts_workload(in); });
  reg.add("trace_tokens",
          "replays recorded per-token top-k expert ids [layers, tokens, k] (CSV or .npy) in steps of "
          "run.tokens_per_step, bypassing the router: drives load and traffic",
          [](const WorkloadInput& in) { return trace::make_tokens_workload(in); });
}

}  // namespace moesim
