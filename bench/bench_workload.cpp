// bench/bench_workload.cpp: synthetic score generation, alone and followed by routing.
//
//   BM_Workload/synthetic_<experts>/<tokens>            Workload::generate of one [tokens, experts] batch
//   BM_GenerateAndRoute/synthetic+topk_256_8/<tokens>    generate, then route it top-8 of 256 (softmax)
// items_per_second = tokens per second, one thread. Compare the second with BM_Route/topk_256_8/32768
// (routing alone) to see what share of a simulated step goes into making the scores.
#include "bench_common.hpp"

#include "moesim/registries.hpp"

#include <benchmark/benchmark.h>

#include <exception>
#include <string>

namespace moesim::bench {
namespace {

constexpr int64_t kTokens = 32768;

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

// router: empty = generate only.
void bm_generate(benchmark::State& state, int experts, const std::string& router_name) {
  state.SetLabel("synthetic zipf E=" + std::to_string(experts) +
                 (router_name.empty() ? "" : " + " + router_name + " k=8 softmax"));
  const Registries& reg = builtin_registries();
  ThreadPool pool(1);
  Scores scores;
  Assignments out;
  std::unique_ptr<Workload> workload;
  std::unique_ptr<Router> router;
  RouterSpec spec;
  spec.name = router_name;
  spec.num_experts = experts;
  spec.k = 8;
  try {  // also the warm-up, outside the timed loop
    workload = reg.workloads.get("synthetic").factory(synthetic_input(experts));
    workload->generate(0, 0, kTokens, scores, pool);
    if (!router_name.empty()) {
      router = reg.routers.get(router_name).factory.make(spec);
      router->route(scores, {}, out, pool);
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (scores.rows() != kTokens || scores.cols() != experts) {
    state.SkipWithError("workload produced the wrong shape");
    return;
  }
  int64_t step = 0;
  for (auto _ : state) {
    workload->generate(step++, 0, kTokens, scores, pool);  // a new batch each time, as in a run
    if (router) router->route(scores, {}, out, pool);
    benchmark::DoNotOptimize(scores.data());
    benchmark::DoNotOptimize(out.expert.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
}

}  // namespace

void register_workload_benchmarks() {
  const Registries& reg = builtin_registries();
  if (!reg.workloads.contains("synthetic")) return;  // not registered (yet)
  const std::string tokens = std::to_string(kTokens);
  for (int experts : {64, 256}) {
    const std::string name = std::string("BM_Workload/synthetic_") + std::to_string(experts) + "/" + tokens;
    benchmark::RegisterBenchmark(name.c_str(), [experts](benchmark::State& st) { bm_generate(st, experts, ""); })
        ->Unit(benchmark::kMicrosecond);
  }
  if (reg.routers.contains("topk")) {
    const std::string name = std::string("BM_GenerateAndRoute/synthetic+topk_256_8/") + tokens;
    benchmark::RegisterBenchmark(name.c_str(),
                                 [](benchmark::State& st) { bm_generate(st, 256, "topk"); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace moesim::bench
