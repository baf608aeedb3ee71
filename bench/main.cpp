// bench/main.cpp: registers every benchmark explicitly (no static initialisers), then runs them.
#include "bench_common.hpp"

#include <benchmark/benchmark.h>

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  moesim::bench::register_routing_benchmarks();
  moesim::bench::register_workload_benchmarks();
  moesim::bench::register_cost_benchmarks();
  moesim::bench::register_plan_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
