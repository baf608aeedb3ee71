// sim/blocked_step.cpp: generate and route a batch in cache-sized blocks (blocked_step.hpp).
#include "sim/blocked_step.hpp"

#include "moesim/error.hpp"

#include <algorithm>
#include <vector>

namespace moesim {

int64_t block_tokens(int experts) {
  const int64_t per_token = int64_t{4} * std::max(1, experts);
  return std::max<int64_t>(8, kBlockBytes / per_token / 8 * 8);
}

void generate_and_route(const BatchRows& rows, int64_t tokens, int experts, std::span<const BlockRoute> routes,
                        ThreadPool& pool) {
  std::vector<std::span<const float>> bias(routes.size());  // [routes] resolved: passed or static
  for (size_t i = 0; i < routes.size(); ++i) {
    MOESIM_CHECK(routes[i].router && routes[i].out, "generate_and_route: a route without router or output");
    MOESIM_CHECK(routes[i].router->spec().num_experts == experts, "generate_and_route: router for another expert count");
    bias[i] = routes[i].router->begin_batch(tokens, routes[i].bias, *routes[i].out);
  }
  const int64_t block = block_tokens(experts);
  pool.parallel_for(tokens, block, [&](int64_t begin, int64_t end) {
    // One block of logits per thread, reused: [block, experts], in L2 between fill and route_rows.
    thread_local std::vector<float> x;
    x.resize(static_cast<size_t>(block * experts));
    rows.fill(begin, end, x.data());
    for (size_t i = 0; i < routes.size(); ++i) {
      const int k = routes[i].router->spec().k;
      Assignments& out = *routes[i].out;
      routes[i].router->route_rows(x.data(), end - begin, bias[i], out.expert.data() + begin * k,
                                   out.weight.data() + begin * k);
    }
  });
}

void route_batch(const Workload& workload, int64_t step, int layer, int64_t tokens, int experts,
                 std::span<const BatchRoute> routes, Scores& scores, ThreadPool& pool) {
  std::vector<BlockRoute> blocked;
  for (const BatchRoute& r : routes) {
    const TokenwiseRouter* tokenwise = r.router->tokenwise();
    if (!tokenwise) break;
    blocked.push_back({tokenwise, r.bias, r.out});
  }
  if (blocked.size() == routes.size()) {
    if (const std::unique_ptr<BatchRows> rows = workload.rows(step, layer)) {
      generate_and_route(*rows, tokens, experts, blocked, pool);
      return;
    }
  }
  workload.generate(step, layer, tokens, scores, pool);
  for (const BatchRoute& r : routes) r.router->route(scores, r.bias, *r.out, pool);
}

}  // namespace moesim
