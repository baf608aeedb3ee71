// moesim/types.hpp: the value types that flow between workload, router, placement and metrics.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace moesim {

// Router logits for one batch at one MoE layer: [tokens, experts], row per token, fp32.
// Logits, not probabilities: the router applies its own scoring function (softmax or sigmoid).
using Scores = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline constexpr int32_t kNoExpert = -1;

// What a router decided for one batch: up to `slots` experts per token.
// Every requested assignment is accounted for: it is either kept (expert >= 0, dropped == 0),
// dropped by capacity (expert >= 0 names the expert it wanted, dropped == 1), or, for routers
// where tokens pick a variable number of experts (expert_choice), an empty slot (expert == kNoExpert).
struct Assignments {
  int64_t tokens = 0;
  int slots = 0;                 // assignment slots per token
  std::vector<int32_t> expert;   // [tokens, slots] logical expert id, or kNoExpert
  std::vector<float> weight;     // [tokens, slots] combine weight (0 for dropped and empty slots)
  std::vector<uint8_t> dropped;  // [tokens, slots] 1 = dropped by capacity; empty vector = none dropped
  int64_t requested = 0;         // assignments asked for: tokens * k (expert_choice: tokens * k too)
  int64_t dropped_count = 0;     // number of slots with dropped == 1, or for expert_choice, requested - kept

  void resize(int64_t n_tokens, int n_slots) {
    tokens = n_tokens;
    slots = n_slots;
    expert.assign(static_cast<size_t>(n_tokens) * n_slots, kNoExpert);
    weight.assign(static_cast<size_t>(n_tokens) * n_slots, 0.0f);
    dropped.clear();
    requested = 0;
    dropped_count = 0;
  }
  // resize for a writer that fills every slot itself (the token-wise routers): no fill pass, so a
  // batch of the same shape as the last one costs nothing here.
  void reshape(int64_t n_tokens, int n_slots) {
    tokens = n_tokens;
    slots = n_slots;
    expert.resize(static_cast<size_t>(n_tokens) * n_slots);
    weight.resize(static_cast<size_t>(n_tokens) * n_slots);
    dropped.clear();
    requested = 0;
    dropped_count = 0;
  }
  int32_t expert_at(int64_t t, int s) const { return expert[static_cast<size_t>(t) * slots + s]; }
  float weight_at(int64_t t, int s) const { return weight[static_cast<size_t>(t) * slots + s]; }
  bool is_dropped(int64_t t, int s) const {
    return !dropped.empty() && dropped[static_cast<size_t>(t) * slots + s] != 0;
  }
  // A slot that sends the token to an expert: a real expert that was not dropped.
  bool is_kept(int64_t t, int s) const { return expert_at(t, s) >= 0 && !is_dropped(t, s); }
};

}  // namespace moesim
