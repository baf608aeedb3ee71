// How the passes of a step scale a block's forward costs (inference: the forward pass alone; training:
// forward, backward and, with recomputation, forward parts again inside the backward).
#pragma once

#include "moesim/deployment.hpp"

namespace moesim::cost {

// Backward of a GEMM = its input gradient and its weight gradient, each as many FLOPs (and about as many
// bytes) as the forward: 2x. Backward of the attention core (FlashAttention-2, Dao 2023, sec. 3.1.2) runs
// five matmuls against the forward's two and recomputes the scores: 2.5x the forward's FLOPs.
inline constexpr double kBackwardFactor = 2.0;
inline constexpr double kAttentionCoreBackwardFactor = 2.5;

struct Passes {
  bool training = false;
  Recompute recompute = Recompute::none;
  explicit Passes(const DeploymentSpec& d) : training(d.phase == Phase::training), recompute(d.training.recompute) {}
  double full() const { return training && recompute == Recompute::full ? 1.0 : 0.0; }
  // Compute time (or bytes) of the backward pass from a forward part, full recomputation included.
  double backward(double forward) const { return training ? (kBackwardFactor + full()) * forward : 0.0; }
  double backward_core(double forward) const { return training ? (kAttentionCoreBackwardFactor + full()) * forward : 0.0; }
  // Selective recomputation: the recomputable part (norms, attention up-projections) runs once more.
  double recomputed(double recomputable) const {
    return training && recompute == Recompute::selective ? recomputable : 0.0;
  }
  // Every pass together, per unit of forward: 1 at inference, 3 (+1 with full recomputation) in training.
  double all(double forward) const { return forward + backward(forward); }
  // Model FLOPs of the whole step from forward FLOPs (recomputation is not useful work).
  double model_flops(double forward, double core_forward) const {
    return training ? forward * (1.0 + kBackwardFactor) + core_forward * (kAttentionCoreBackwardFactor - kBackwardFactor)
                    : forward;
  }
};

}  // namespace moesim::cost
