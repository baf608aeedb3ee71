// The issue-5 planning search: DeepSeek-V3 over 5 hardware types, 8 to 512 devices, every valid attention /
// expert tensor-parallel layout and the default batch ladders. Target: under a minute on 2 cores, for decode
// (10 batches), prefill (6 prompt-token batches) and the two together (disaggregated, 2000 + 500 tokens).
#include "bench_common.hpp"

#include "moesim/config.hpp"
#include "moesim/plan.hpp"

#include <benchmark/benchmark.h>

namespace moesim::bench {

namespace {

PlanRequest deepseek_v3_request(PlanMode mode, Phase phase) {
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
  req.base.deployment.phase = phase;
  for (const char* hw : {"h800", "h100", "h200", "h20", "b200"}) req.hardware.push_back(load_hardware_preset(hw, dirs));
  req.devices = {8, 16, 32, 64, 128, 256, 512};
  req.decode_batch = {4, 8, 16, 24, 32, 48, 64, 96, 128, 192};
  req.prefill_batch = {512, 1024, 2048, 4096, 8192, 16384};
  req.mode = mode;
  req.input_tokens = 2000;
  req.output_tokens = 500;
  req.target_tokens_per_s = 1e6;
  req.max_tpot_s = phase == Phase::decode || mode != PlanMode::phase ? 0.05 : 0;
  req.max_ttft_s = phase == Phase::prefill || mode != PlanMode::phase ? 2.0 : 0;
  return req;
}

void run_plan(benchmark::State& state, PlanRequest req) {
  req.threads = static_cast<int>(state.range(0));
  size_t candidates = 0;
  for (auto _ : state) {
    const PlanResult r = plan(req, builtin_registries());
    candidates = r.candidates.size();
    state.counters["routing_inputs"] = r.routing_samples;
    state.counters["capped_inputs"] = r.capped_samples;
  }
  state.counters["candidates"] = double(candidates);
  state.SetItemsProcessed(int64_t(candidates) * state.iterations());
}

void BM_PlanDeepSeekV3(benchmark::State& state) { run_plan(state, deepseek_v3_request(PlanMode::phase, Phase::decode)); }
void BM_PlanDeepSeekV3Prefill(benchmark::State& state) {
  run_plan(state, deepseek_v3_request(PlanMode::phase, Phase::prefill));
}
void BM_PlanDeepSeekV3Disaggregated(benchmark::State& state) {
  run_plan(state, deepseek_v3_request(PlanMode::disaggregated, Phase::decode));
}

}  // namespace

void register_plan_benchmarks() {
  for (auto [name, fn] : {std::pair{"BM_PlanDeepSeekV3/threads", &BM_PlanDeepSeekV3},
                          std::pair{"BM_PlanDeepSeekV3Prefill/threads", &BM_PlanDeepSeekV3Prefill},
                          std::pair{"BM_PlanDeepSeekV3Disaggregated/threads", &BM_PlanDeepSeekV3Disaggregated}})
    benchmark::RegisterBenchmark(name, fn)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
}

}  // namespace moesim::bench
