// bench/bench_routing.cpp: routing throughput (tokens/s, one thread) of every registered router.
//
//   BM_Route/<router>_<experts>_<k>/<tokens>   one Router::route call on [tokens, experts] fp32
//                                              logits; items_per_second = tokens routed per second.
// Sweep: every router in builtin_registries().routers x experts {8, 64, 256} x k {1, 2, 8} (k <= experts)
// x tokens {4096, 16384, 65536}. Plus the issue-6 target shapes at 32768 tokens (register_targets), on
// one thread and on a pool of two (.../32768/pool:2/real_time, wall-clock time). The logits are N(0, 1),
// made once per shape on 2 MB pages (bench_common.hpp).
#include "bench_common.hpp"

#include "moesim/error.hpp"
#include "moesim/registries.hpp"

#include <benchmark/benchmark.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace moesim::bench {
namespace {

struct RouteCase {
  RouterSpec spec;
  std::vector<float> bias;  // [experts] selection bias, or empty
  int64_t tokens = 0;
  int threads = 1;  // ThreadPool size
};

bool accepts(const RouterEntry& entry, const RouterSpec& spec) {
  if (!entry.validate) return true;
  try {
    entry.validate(spec, "bench", "router");
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string label_of(const RouterSpec& s) {
  std::string l = s.name + " E=" + std::to_string(s.num_experts) + " k=" + std::to_string(s.k);
  if (s.groups != 1) l += " groups=" + std::to_string(s.groups);
  if (s.topk_group != 0) l += " topk_group=" + std::to_string(s.topk_group);
  l += std::string(" ") + to_string(s.scoring);
  return l;
}

// The sweep's spec for (router, experts, k), or nothing when the router rejects them all.
// A parameter the router's validator does not check (it accepts a value no grouped router could use)
// is taken to be unused and left at its default, so labels only show what the router uses. Grouped routers get the
// most groups (8, 4, 2, 1) they accept, keeping half of them per token where they take topk_group.
std::optional<RouterSpec> sweep_spec(const std::string& name, const RouterEntry& entry, int experts, int k) {
  RouterSpec base;
  base.name = name;
  base.num_experts = experts;
  base.k = k;

  RouterSpec probe = base;
  probe.num_experts = 64;
  probe.k = 8;
  probe.groups = 64;  // one expert per group, more groups than k: fine unless the router groups experts
  const bool uses_groups = !accepts(entry, probe);
  probe.groups = 8;
  probe.topk_group = 99;  // more groups kept than exist
  const bool uses_topk_group = !accepts(entry, probe);

  std::vector<RouterSpec> candidates;
  for (int g : uses_groups ? std::vector<int>{8, 4, 2, 1} : std::vector<int>{1}) {
    RouterSpec s = base;
    s.groups = g;
    if (uses_topk_group && g > 1) {
      s.topk_group = g / 2;
      candidates.push_back(s);
    }
    s.topk_group = 0;
    candidates.push_back(s);
  }
  for (const RouterSpec& s : candidates) {
    if (accepts(entry, s)) return s;
  }
  return std::nullopt;
}

void bm_route(benchmark::State& state, const RouteCase& c) {
  state.SetLabel(label_of(c.spec));
  std::unique_ptr<Router> router;
  const Scores& scores = random_logits(c.spec.num_experts, c.tokens);
  ThreadPool pool(c.threads);
  Assignments out;
  try {  // also the warm-up: sizes `out` once, outside the timed loop
    router = builtin_registries().routers.get(c.spec.name).factory.make(c.spec);
    router->route(scores, c.bias, out, pool);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (out.tokens != c.tokens) {
    state.SkipWithError("router filled the wrong number of tokens");
    return;
  }
  for (auto _ : state) {
    router->route(scores, c.bias, out, pool);
    benchmark::DoNotOptimize(out.expert.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * c.tokens);
}

// Cases with a pool of several threads are timed by wall clock (CPU time counts the calling thread only).
void add(const std::string& name, RouteCase c) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& st) { bm_route(st, c); });
  b->Unit(benchmark::kMicrosecond);
  if (c.threads > 1) b->UseRealTime();
}

std::string case_name(const RouterSpec& s, int64_t tokens) {
  return "BM_Route/" + s.name + "_" + std::to_string(s.num_experts) + "_" + std::to_string(s.k) + "/" +
         std::to_string(tokens);
}

void register_targets(const RouterRegistry& routers) {
  for (const TargetCase& t : target_cases()) {
    if (!routers.contains(t.spec.name)) continue;  // router not registered (yet)
    RouteCase c{t.spec, t.bias, kTargetTokens};
    add(case_name(c.spec, c.tokens), c);  // bm_route reports a spec the router rejects
    c.threads = 2;                        // the same on a pool of 2 threads (scaling)
    add(case_name(c.spec, c.tokens) + "/pool:2", c);
  }
}

}  // namespace

void register_routing_benchmarks() {
  const RouterRegistry& routers = builtin_registries().routers;
  register_targets(routers);
  for (const auto* e : routers.entries()) {
    for (int experts : {8, 64, 256}) {
      for (int k : {1, 2, 8}) {
        if (k > experts) continue;
        const std::optional<RouterSpec> spec = sweep_spec(e->name, e->factory, experts, k);
        if (!spec) continue;
        for (int64_t tokens : {4096, 16384, 65536}) add(case_name(*spec, tokens), RouteCase{*spec, {}, tokens});
      }
    }
  }
}

}  // namespace moesim::bench
