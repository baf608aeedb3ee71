// sim/blocked_step.hpp: one MoE layer's batch of logits generated and routed in cache-sized blocks of
// tokens (private to sim/ and bench/).
//
// Why: a batch of [tokens, experts] fp32 logits is tens of MB (32768 x 256 = 32 MB), far beyond the
// caches. Made whole and then routed, every value goes to DRAM and back (about 90 ns per token of 256
// experts on the machine of bench/README.md, more than generating or routing it). Routers that decide
// token by token (Router::tokenwise) do not need the whole batch, so the simulator makes kBlockBytes of
// rows at a time into a per-thread buffer that stays in L2 and routes them while they are there.
// Results are bit for bit those of Workload::generate followed by Router::route: a row's values depend
// on (seed, step, layer, token, expert) only and a token-wise router's decision on its row only, so
// neither the block size nor the thread count can change a bit.
#pragma once

#include "moesim/parallel.hpp"
#include "moesim/router.hpp"
#include "moesim/types.hpp"
#include "moesim/workload.hpp"

#include <cstdint>
#include <span>

namespace moesim {

// Logits per block, in bytes: 64 KB, a sixteenth of the 1 MB L2 of the machine of bench/README.md, so that
// the block, the router's scratch and the outputs stay in L2 together with room to spare, and part of
// the block is still in L1 when the router reads it (bench/README.md: 64 KB routed 1-8% more tokens per
// second than 256 KB, end to end, for every target router).
inline constexpr int64_t kBlockBytes = int64_t{64} << 10;

// Tokens per block for `experts` experts: kBlockBytes of logits, a multiple of 8 tokens (the routers'
// kernels take rows in fours and eights), at least 8. Depends on `experts` only.
int64_t block_tokens(int experts);

// One router's share of a blocked step.
struct BlockRoute {
  const TokenwiseRouter* router = nullptr;
  std::span<const float> bias;  // as for Router::route: empty = the router's static bias
  Assignments* out = nullptr;   // filled completely, as Router::route would
};

// Makes rows [0, tokens) of `rows` ([tokens, experts]) block by block and routes each block with every
// router of `routes`, over the pool in blocks of block_tokens(experts): out of routes[i] ends up equal
// to routes[i].router->route(generated batch, routes[i].bias, .) bit for bit, whatever pool.threads().
void generate_and_route(const BatchRows& rows, int64_t tokens, int experts, std::span<const BlockRoute> routes,
                        ThreadPool& pool);

// Any router's share of one batch.
struct BatchRoute {
  const Router* router = nullptr;
  std::span<const float> bias;  // as for Router::route
  Assignments* out = nullptr;
};

// Batch (step, layer) of a generating workload routed by every router of `routes`: in blocks
// (generate_and_route) when every router decides token by token and the workload makes rows on demand,
// else the whole batch generated into `scores`, then routed by each. The same bits either way. This is
// how the simulator and the planner route synthetic batches.
void route_batch(const Workload& workload, int64_t step, int layer, int64_t tokens, int experts,
                 std::span<const BatchRoute> routes, Scores& scores, ThreadPool& pool);

}  // namespace moesim
