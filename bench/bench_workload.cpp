// bench/bench_workload.cpp: synthetic score generation, alone and with routing, the way the simulator
// runs it (items_per_second = tokens per second, one thread):
//
//   BM_Workload/synthetic_<E>/32768          Workload::generate of one whole [32768, E] batch (into memory)
//   BM_WorkloadBlocked/synthetic_<E>/32768   the same batch made block by block into one L2-sized block
//                                            buffer (BatchRows::fill), as the simulator's step makes it
//   BM_GenerateAndRoute/synthetic+<router>_<E>_<k>/32768
//                                            one simulated MoE layer: generate_and_route
//                                            (sim/blocked_step.hpp), the batch generated and routed in
//                                            blocks, never held whole; compare with BM_Route/<router>_<E>_<k>/32768
//   BM_GenerateThenRoute/synthetic+topk_256_8/32768
//                                            the old way: the whole batch generated, then routed
#include "bench_common.hpp"

#include "moesim/registries.hpp"
#include "sim/blocked_step.hpp"

#include <benchmark/benchmark.h>

#include <exception>
#include <string>

namespace moesim::bench {
namespace {

WorkloadInput synthetic_input(int experts) {
  WorkloadInput in;
  in.spec.name = "synthetic";
  in.spec.popularity = Popularity::zipf;  // a skewed, realistic case; exponent 1
  in.num_experts = experts;
  in.num_layers = 1;
  in.tokens_per_sequence = 1;  // decode: every token its own sequence
  in.seed = 1;
  return in;
}

std::unique_ptr<Workload> make_synthetic(benchmark::State& state, int experts) {
  try {
    return builtin_registries().workloads.get("synthetic").factory(synthetic_input(experts));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
}

// Whole batches: generate, and if `router` route it afterwards (the old step).
void bm_generate(benchmark::State& state, int experts, const TargetCase* router) {
  state.SetLabel("synthetic zipf E=" + std::to_string(experts) + (router ? " + " + router->spec.name : ""));
  ThreadPool pool(1);
  Scores scores;
  Assignments out;
  std::unique_ptr<Workload> workload = make_synthetic(state, experts);
  if (!workload) return;
  std::unique_ptr<Router> r;
  try {  // also the warm-up, outside the timed loop
    workload->generate(0, 0, kTargetTokens, scores, pool);
    if (router) {
      r = builtin_registries().routers.get(router->spec.name).factory.make(router->spec);
      r->route(scores, router->bias, out, pool);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  int64_t step = 0;
  for (auto _ : state) {
    workload->generate(step++, 0, kTargetTokens, scores, pool);  // a new batch each time, as in a run
    if (r) r->route(scores, router->bias, out, pool);
    benchmark::DoNotOptimize(scores.data());
    benchmark::DoNotOptimize(out.expert.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTargetTokens);
}

// The batch's rows made block by block into one block buffer of block_tokens(experts) rows, reused.
void bm_generate_blocked(benchmark::State& state, int experts) {
  state.SetLabel("synthetic zipf E=" + std::to_string(experts) + ", blocks of " +
                 std::to_string(block_tokens(experts)) + " tokens");
  std::unique_ptr<Workload> workload = make_synthetic(state, experts);
  if (!workload) return;
  const int64_t block = block_tokens(experts);
  std::vector<float> x(static_cast<size_t>(block * experts));
  int64_t step = 0;
  for (auto _ : state) {
    const std::unique_ptr<BatchRows> rows = workload->rows(step++, 0);
    for (int64_t t = 0; t < kTargetTokens; t += block) rows->fill(t, std::min(kTargetTokens, t + block), x.data());
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTargetTokens);
}

// One simulated MoE layer of a synthetic workload and one token-wise router: generate_and_route.
void bm_generate_and_route(benchmark::State& state, const TargetCase& c) {
  const int experts = c.spec.num_experts;
  state.SetLabel("synthetic zipf E=" + std::to_string(experts) + " + " + c.spec.name + " k=" + std::to_string(c.spec.k) +
                 ", blocks of " + std::to_string(block_tokens(experts)) + " tokens");
  std::unique_ptr<Workload> workload = make_synthetic(state, experts);
  if (!workload) return;
  ThreadPool pool(1);
  Assignments out;
  std::unique_ptr<Router> router;
  try {
    router = builtin_registries().routers.get(c.spec.name).factory.make(c.spec);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (!router->tokenwise()) {
    state.SkipWithError("the router needs the whole batch");
    return;
  }
  const BlockRoute route{router->tokenwise(), c.bias, &out};
  int64_t step = 0;
  for (auto _ : state) {
    const std::unique_ptr<BatchRows> rows = workload->rows(step++, 0);
    generate_and_route(*rows, kTargetTokens, experts, {&route, 1}, pool);
    benchmark::DoNotOptimize(out.expert.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTargetTokens);
}

}  // namespace

void register_workload_benchmarks() {
  const Registries& reg = builtin_registries();
  if (!reg.workloads.contains("synthetic")) return;  // not registered (yet)
  const std::string tokens = "/" + std::to_string(kTargetTokens);
  for (int experts : {64, 256}) {
    const std::string e = std::to_string(experts);
    benchmark::RegisterBenchmark(("BM_Workload/synthetic_" + e + tokens).c_str(),
                                 [experts](benchmark::State& st) { bm_generate(st, experts, nullptr); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_WorkloadBlocked/synthetic_" + e + tokens).c_str(),
                                 [experts](benchmark::State& st) { bm_generate_blocked(st, experts); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const TargetCase& c : target_cases()) {
    if (!reg.routers.contains(c.spec.name)) continue;
    const std::string shape = c.spec.name + "_" + std::to_string(c.spec.num_experts) + "_" + std::to_string(c.spec.k);
    if (c.spec.name == "topk")
      benchmark::RegisterBenchmark(("BM_GenerateThenRoute/synthetic+" + shape + tokens).c_str(),
                                   [c](benchmark::State& st) { bm_generate(st, c.spec.num_experts, &c); })
          ->Unit(benchmark::kMicrosecond);
    if (c.spec.name == "expert_choice") continue;  // needs the whole batch: the simulator generates, then routes
    benchmark::RegisterBenchmark(("BM_GenerateAndRoute/synthetic+" + shape + tokens).c_str(),
                                 [c](benchmark::State& st) { bm_generate_and_route(st, c); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace moesim::bench
