// moesim/workload.hpp: where router logits come from (synthetic skew models), or, for a recorded
// trace, the routing decisions themselves (trace replay bypasses the router).
#pragma once

#include "moesim/error.hpp"
#include "moesim/parallel.hpp"
#include "moesim/registry.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"

#include <memory>
#include <string>

namespace moesim {

// The logits of one batch, made a block of rows at a time, so that a caller can generate and route a
// batch in cache-sized blocks without ever holding all of it (sim/src/sim/blocked_step.hpp).
class BatchRows {
 public:
  virtual ~BatchRows() = default;
  // out: [end - begin, num_experts], rows begin .. end - 1 of the batch, bit for bit what
  // Workload::generate writes there (for any batch of at least `end` tokens). Safe to call concurrently.
  virtual void fill(int64_t begin, int64_t end, float* out) const = 0;
};

class Workload {
 public:
  virtual ~Workload() = default;
  // Fills out with [tokens, num_experts] logits for batch `step` at MoE layer `layer`.
  // A value depends only on (seed, step, layer, token, expert): identical whatever pool.threads().
  virtual void generate(int64_t step, int layer, int64_t tokens, Scores& out, ThreadPool& pool) const = 0;

  // Batch `step` at MoE layer `layer` as rows made on demand, or null (the default) where the workload
  // only makes whole batches.
  virtual std::unique_ptr<BatchRows> rows(int64_t step, int layer) const { return nullptr; }

  // A replaying workload (a recorded trace) gives routing decisions directly: the simulator calls
  // replay() instead of generate() + the router, then applies capacity and placement as usual.
  virtual bool replays() const { return false; }
  // Fills `out` completely (it resizes it) with the recorded assignments of batch `step` at MoE layer
  // `layer`. Safe to call concurrently; the result depends only on (step, layer).
  virtual void replay(int64_t step, int layer, Assignments& out) const {
    MOESIM_CHECK(false, "replay() called on a workload that does not replay");
  }
};

struct WorkloadInput {
  WorkloadSpec spec;
  int num_experts = 0;
  int num_layers = 0;           // MoE layers simulated
  int tokens_per_sequence = 1;  // consecutive tokens of one sequence share a preference
  uint64_t seed = 1;
  // Trace replay (trace_counts, trace_tokens) checks the trace against these; synthetic ignores them.
  int top_k = 0;                 // the model's routed experts per token
  int64_t tokens_per_step = 0;   // run.tokens_per_step: a per-token trace is cut into steps of this many tokens
  int steps = 0;                 // run.steps: the trace must hold at least this many steps
  int model_layers = 0;          // the model's blocks, dense ones included (num_layers)
  int first_dense_layers = 0;    // the model's leading dense blocks
  std::string file = {};         // the scenario file (errors about run.* name it)
};

using WorkloadFactory = std::function<std::unique_ptr<Workload>(const WorkloadInput&)>;
using WorkloadRegistry = Registry<WorkloadFactory>;

// Per-expert popularity (sums to 1) of the synthetic workload at one layer: [num_experts].
// Exposed so tests and reports can compare measured loads with the intended skew.
std::vector<double> synthetic_popularity(const WorkloadInput& in, int layer);

}  // namespace moesim
