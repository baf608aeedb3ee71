// sim/dynamics.hpp: what changes between the steps of one setup (private to sim/): DeepSeek's
// aux-loss-free router bias (router.bias_update_speed) and EPLB placements recomputed from measured
// loads (placement.warmup_steps, placement.rebalance_every). Layers write their own rows during a step;
// end_of_step runs between steps on one thread, so results never depend on the thread count.
// The load both measure is an expert's selections, before any capacity drop: DeepSeek-V3's bias update
// counts the tokens the router sends to each expert (arXiv 2412.19437 section 2.1.2; V3 drops none),
// and the recorders EPLB is fed from count the router's top-k ids (SGLang's on_select_experts,
// TensorRT-LLM's routed expert ids).
#pragma once

#include "moesim/placement.hpp"
#include "moesim/simulator.hpp"

#include <functional>
#include <span>
#include <vector>

namespace moesim {

class SetupDynamics {
 public:
  // Builds placement p from a spec (the registered placement factory, bound to the setup).
  using Replace = std::function<Placement(const PlacementSpec&)>;

  SetupDynamics() = default;
  // layers x experts state; run_steps: steps in the run (no rebalance follows the last one);
  // expert_bytes: parameter bytes of one routed expert (migration accounting).
  SetupDynamics(const SetupSpec& setup, int layers, int experts, int64_t run_steps, int64_t expert_bytes,
                Replace replace);

  // The bias to route layer l with: empty unless router.bias_update_speed > 0 (the router then uses
  // its static router.bias, if any); else it started at router.bias (or 0) and moved every step.
  std::span<const float> bias(int layer) const {
    return bias_.empty() ? std::span<const float>{} : std::span<const float>(bias_[static_cast<size_t>(layer)]);
  }
  bool records() const { return !step_tokens_.empty(); }
  // This step's load at `layer`: per logical expert, the slots of `routed` that select it, kept or
  // dropped by capacity (empty slots count for none).
  void record(int layer, const Assignments& routed);
  // After step `step` (0-based): moves the bias, adds the step to the load window and rebalances
  // the placements ([layers]) when one is due. No rebalance follows the run's last step: no step
  // would run on it, so neither it nor its migration bytes are recorded.
  void end_of_step(int64_t step, std::vector<Placement>& placement);

  const std::vector<RebalanceRecord>& rebalances() const { return rebalances_; }

 private:
  void update_bias();
  bool rebalance_due(int64_t step) const;
  void rebalance(int64_t step, std::vector<Placement>& placement);

  float gamma_ = 0.0f;
  int warmup_ = 0, every_ = 0;
  int64_t run_steps_ = 0, expert_bytes_ = 0;
  PlacementSpec spec_;
  Replace replace_;
  std::vector<std::vector<float>> bias_;          // [layers][experts]; empty when gamma == 0
  std::vector<std::vector<int64_t>> step_tokens_;  // [layers][experts] this step's selections; empty if unused
  std::vector<std::vector<int64_t>> window_;       // [layers][experts] loads since the last rebalance
  int64_t window_steps_ = 0;
  std::vector<RebalanceRecord> rebalances_;
};

// Logical experts that gained a copy on some device: sum over devices of |experts(after) \ experts(before)|.
int64_t moved_expert_copies(const Placement& before, const Placement& after);

}  // namespace moesim
