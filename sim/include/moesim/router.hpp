// moesim/router.hpp: a router turns a batch of logits into expert assignments.
#pragma once

#include "moesim/parallel.hpp"
#include "moesim/registry.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"

#include <memory>
#include <span>

namespace moesim {

class Router {
 public:
  virtual ~Router() = default;

  // scores: [tokens, num_experts] logits. bias: [num_experts] added to the scores for selection
  // only (DeepSeek aux-loss-free balancing), or empty: then the spec's static bias (RouterSpec::bias,
  // itself possibly empty) is used. Fills `out` completely (it resizes it).
  // Must give identical results whatever pool.threads() is.
  virtual void route(const Scores& scores, std::span<const float> bias, Assignments& out, ThreadPool& pool) const = 0;
};

// A router whose decision for one token depends on that token's row only: implement route_rows.
class TokenwiseRouter : public Router {
 public:
  explicit TokenwiseRouter(RouterSpec spec) : spec_(std::move(spec)) {}
  void route(const Scores& scores, std::span<const float> bias, Assignments& out, ThreadPool& pool) const final;
  // Routes tokens [begin, end): writes every slot of their out.expert / out.weight rows, already sized
  // [tokens, k] (Assignments::reshape: what they held before is not cleared).
  virtual void route_rows(const Scores& scores, std::span<const float> bias, int64_t begin, int64_t end,
                          Assignments& out) const = 0;
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
};
using RouterRegistry = Registry<RouterEntry>;

}  // namespace moesim
