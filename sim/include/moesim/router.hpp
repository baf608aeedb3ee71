// moesim/router.hpp: a router turns a batch of logits into expert assignments.
#pragma once

#include "moesim/parallel.hpp"
#include "moesim/registry.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace moesim {

class TokenwiseRouter;

class Router {
 public:
  virtual ~Router() = default;

  // scores: [tokens, num_experts] logits. bias: [num_experts] added to the scores for selection
  // only (DeepSeek aux-loss-free balancing), or empty: then the spec's static bias (RouterSpec::bias,
  // itself possibly empty) is used. Fills `out` completely (it resizes it).
  // Must give identical results whatever pool.threads() is.
  virtual void route(const Scores& scores, std::span<const float> bias, Assignments& out, ThreadPool& pool) const = 0;

  // Whether the router decides token by token: a token's experts and weights depend on its own row of
  // logits and the bias only, never on the other tokens of the batch. Then it is a TokenwiseRouter (this
  // returns it) and a caller may route a batch in blocks of rows, in any order, without ever holding the
  // whole batch (the simulator generates and routes synthetic batches in cache-sized blocks:
  // sim/src/sim/blocked_step.hpp). Null for routers that need the whole batch at once (expert choice,
  // MoGE with voted_experts): they only route() a whole Scores.
  virtual const TokenwiseRouter* tokenwise() const { return nullptr; }
};

// A router whose decision for one token depends on that token's row only: implement route_rows.
class TokenwiseRouter : public Router {
 public:
  explicit TokenwiseRouter(RouterSpec spec) : spec_(std::move(spec)) {}
  // begin_batch, then route_rows over fixed 1024-token chunks of the pool.
  void route(const Scores& scores, std::span<const float> bias, Assignments& out, ThreadPool& pool) const final;
  const TokenwiseRouter* tokenwise() const final { return this; }

  // Sizes `out` for a batch of `tokens` routed by route_rows ([tokens, k], requested = tokens * k; what
  // the slots held before is not cleared: route_rows writes every one) and returns the bias to pass to
  // route_rows: `bias`, or the spec's static bias when `bias` is empty. Checks its length.
  std::span<const float> begin_batch(int64_t tokens, std::span<const float> bias, Assignments& out) const;
  // Routes `rows` consecutive tokens of a batch: x: [rows, num_experts] their logits; writes every slot
  // of expert and weight, both [rows, k]. bias: as begin_batch returned it. Safe to call concurrently.
  virtual void route_rows(const float* x, int64_t rows, std::span<const float> bias, int32_t* expert,
                          float* weight) const = 0;
  const RouterSpec& spec() const { return spec_; }

 protected:
  RouterSpec spec_;
};

// Applies per-expert capacity C = ceil(factor * tokens * k / experts) in GShard's priority order: all
// tokens' 1st choices (slot 0) in token order, then all 2nd choices, etc.; assignments beyond C are
// marked dropped (weight 0) and counted. factor <= 0: no-op.
void apply_capacity(const CapacitySpec& cap, int num_experts, int k, Assignments& a);

// Checks the spec against the router's constraints; throws Error(file, key_prefix + ".k", ...) etc.
using RouterFactory = std::function<std::unique_ptr<Router>(const RouterSpec&)>;
using RouterValidator = std::function<void(const RouterSpec&, const std::string& file, const std::string& key)>;
struct RouterEntry {
  RouterFactory make;
  RouterValidator validate;
  // Router keys (scenario `router.<key>`) this router never reads: a scenario that writes one is refused,
  // never silently ignored (values inherited from the model preset are not checked).
  std::vector<std::string> unused_keys = {};
};
using RouterRegistry = Registry<RouterEntry>;

}  // namespace moesim
