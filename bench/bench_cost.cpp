// Costing versus routing one decode step of DeepSeek-V3 at EP144 (issue 3: costing must not dominate a
// run). Both cases cover the 58 MoE layers of one step: routing = route + measure_load per layer; costing =
// CostModel::moe_layer per layer plus the step's fixed part. Compare their times in one run (2026, 2 shared
// cores: routing 368 ms, costing 1.9 ms per step, ~190x; the per-expert rooflines and the 144 x 144
// low-latency traffic matrix are the costing's main work).
#include "bench_common.hpp"

#include "moesim/config.hpp"
#include "moesim/cost.hpp"
#include "moesim/registries.hpp"

#include <benchmark/benchmark.h>

namespace moesim::bench {

namespace {

// DeepSeek-V3 decode on 144 H800 (18 nodes), 128 sequences per GPU, 4K context, as DeepSeek deploys it.
const char* kScenario = R"(
name: deepseek-v3-decode-ep144
model: deepseek-v3
cluster: {devices: 144, devices_per_node: 8, hardware: h800}
run: {steps: 1, tokens_per_step: 18432, seed: 1}
workload: {popularity: uniform}
router: {name: group_limited}
placement: {name: contiguous}
deployment:
  phase: decode
  context_length: 4096
  dtypes: {weights: fp8, activations: fp8, kv_cache: bf16, dispatch: fp8, combine: bf16}
  overlap: true
)";

struct Step {
  ScenarioSpec spec;
  std::unique_ptr<Router> router;
  Placement placement;
  std::unique_ptr<CostModel> cost;
  const Scores* scores = nullptr;
  BatchLoad load;
};

const Step& step() {
  static const Step s = [] {
    Step st;
    const Registries& reg = builtin_registries();
    st.spec = parse_scenario(kScenario, "bench_cost", {}, reg);
    const SetupSpec& setup = st.spec.setups.front();
    st.router = reg.routers.get(setup.router.name).factory.make(setup.router);
    const PlacementInput in{st.spec.model.num_experts, st.spec.cluster.devices, st.spec.cluster.devices_per_node,
                            setup.router.groups, &setup.placement};
    st.placement = reg.placements.get(setup.placement.name).factory(in, "", "placement");
    st.cost = reg.cost_models.get("roofline").factory(
        CostInput{st.spec.model, st.spec.hardware, st.spec.deployment, st.spec.cluster.devices,
                  st.spec.cluster.devices_per_node, st.spec.run.tokens_per_step});
    st.scores = &random_logits(st.spec.model.num_experts, st.spec.run.tokens_per_step);
    ThreadPool pool(1);
    Assignments a;
    st.router->route(*st.scores, {}, a, pool);
    st.load = measure_load(a, st.placement, st.spec.cluster.devices_per_node);
    return st;
  }();
  return s;
}

void BM_RouteDecodeStep(benchmark::State& state) {
  const Step& s = step();
  ThreadPool pool(1);
  Assignments a;
  const int layers = s.spec.model.moe_layers();
  for (auto _ : state) {
    for (int l = 0; l < layers; ++l) {
      s.router->route(*s.scores, {}, a, pool);
      benchmark::DoNotOptimize(measure_load(a, s.placement, s.spec.cluster.devices_per_node));
    }
  }
  state.SetItemsProcessed(state.iterations());  // steps
  state.SetLabel("deepseek-v3 decode EP144, 58 MoE layers x 18432 tokens");
}

void BM_CostDecodeStep(benchmark::State& state) {
  const Step& s = step();
  const int layers = s.spec.model.moe_layers();
  for (auto _ : state) {
    double t = s.cost->fixed().lm_head_s;
    for (int l = 0; l < layers; ++l) t += s.cost->moe_layer(s.load, s.placement).slowest_s;
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());  // steps
  state.SetLabel("deepseek-v3 decode EP144, 58 MoE layers");
}

}  // namespace

void register_cost_benchmarks() {
  benchmark::RegisterBenchmark("BM_RouteDecodeStep/deepseek_v3_ep144", BM_RouteDecodeStep)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_CostDecodeStep/deepseek_v3_ep144", BM_CostDecodeStep)->Unit(benchmark::kMillisecond);
}

}  // namespace moesim::bench
