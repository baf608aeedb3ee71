// The issue-5 planning search: DeepSeek-V3 decode over 5 hardware types, 8 to 512 devices, every valid
// attention/expert tensor-parallel layout and 10 batch sizes. Target: under a minute on 2 cores.
#include "bench_common.hpp"

#include "moesim/config.hpp"
#include "moesim/plan.hpp"

#include <benchmark/benchmark.h>

namespace moesim::bench {

namespace {

void BM_PlanDeepSeekV3(benchmark::State& state) {
  const auto dirs = default_preset_dirs();
  PlanRequest req;
  req.base = parse_scenario(R"(
name: plan-deepseek-v3
model: deepseek-v3
cluster: {devices: 8, hardware: h800}
run: {steps: 1, tokens_per_step: 1024, seed: 1}
workload: {popularity: uniform}
router: {name: group_limited}
placement: {name: contiguous}
deployment:
  phase: decode
  context_length: 4096
  dtypes: {weights: fp8, activations: fp8, kv_cache: bf16, dispatch: fp8, combine: bf16}
  overlap: true
)", "bench_plan", {}, builtin_registries());
  for (const char* hw : {"h800", "h100", "h200", "h20", "b200"}) req.hardware.push_back(load_hardware_preset(hw, dirs));
  req.devices = {8, 16, 32, 64, 128, 256, 512};
  req.batch_per_device = {4, 8, 16, 24, 32, 48, 64, 96, 128, 192};
  req.target_tokens_per_s = 1e6;
  req.max_tpot_s = 0.05;
  req.threads = static_cast<int>(state.range(0));
  size_t candidates = 0;
  for (auto _ : state) {
    const PlanResult r = plan(req, builtin_registries());
    candidates = r.candidates.size();
    state.counters["routing_inputs"] = r.routing_samples;
  }
  state.counters["candidates"] = double(candidates);
  state.SetItemsProcessed(int64_t(candidates) * state.iterations());
}

}  // namespace

void register_plan_benchmarks() {
  benchmark::RegisterBenchmark("BM_PlanDeepSeekV3/threads", BM_PlanDeepSeekV3)
      ->Arg(2)
      ->Iterations(1)
      ->Unit(benchmark::kSecond)
      ->UseRealTime();
}

}  // namespace moesim::bench
