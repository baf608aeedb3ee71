// sim/dynamics.cpp: router bias updates and in-simulation EPLB rebalancing between steps.
#include "sim/dynamics.hpp"

#include "moesim/error.hpp"

#include <algorithm>

namespace moesim {

SetupDynamics::SetupDynamics(const SetupSpec& setup, int layers, int experts, int64_t run_steps, int64_t expert_bytes,
                             Replace replace)
    : gamma_(static_cast<float>(setup.router.bias_update_speed)),
      warmup_(setup.placement.warmup_steps),
      every_(setup.placement.rebalance_every),
      run_steps_(run_steps),
      expert_bytes_(expert_bytes),
      spec_(setup.placement),
      replace_(std::move(replace)) {
  const auto rows = static_cast<size_t>(layers);
  if (gamma_ > 0.0f) {  // starts from the static bias (router.bias), else from 0
    const std::vector<float>& start = setup.router.bias;
    bias_.assign(rows, start.empty() ? std::vector<float>(static_cast<size_t>(experts), 0.0f) : start);
  }
  if (gamma_ > 0.0f || spec_.dynamic()) step_tokens_.assign(rows, std::vector<int64_t>(static_cast<size_t>(experts), 0));
  if (spec_.dynamic()) window_.assign(rows, std::vector<int64_t>(static_cast<size_t>(experts), 0));
}

void SetupDynamics::record(int layer, const Assignments& routed) {
  std::vector<int64_t>& load = step_tokens_[static_cast<size_t>(layer)];
  std::fill(load.begin(), load.end(), 0);
  for (const int32_t e : routed.expert) {
    if (e < 0) continue;  // an empty slot
    MOESIM_CHECK(static_cast<size_t>(e) < load.size(), "record: expert id out of range");
    ++load[static_cast<size_t>(e)];
  }
}

// DeepSeek-V3 eq. 16: per layer, b_e -= gamma when expert e's load this step is above the layer's mean
// load, += gamma when below, unchanged when equal (compared exactly: load * experts vs total).
void SetupDynamics::update_bias() {
  for (size_t l = 0; l < bias_.size(); ++l) {
    const auto& load = step_tokens_[l];
    int64_t total = 0;
    for (int64_t v : load) total += v;
    const auto n = static_cast<int64_t>(load.size());
    for (size_t e = 0; e < load.size(); ++e) {
      if (load[e] * n > total) bias_[l][e] -= gamma_;
      else if (load[e] * n < total) bias_[l][e] += gamma_;
    }
  }
}

// The first rebalance follows step warmup - 1; later ones every `every` steps after it. With no
// warm-up the first comes after `every` steps. None follows the last step.
bool SetupDynamics::rebalance_due(int64_t step) const {
  const int64_t done = step + 1;  // steps completed
  if (done >= run_steps_) return false;
  if (warmup_ > 0 && done == warmup_) return true;
  return every_ > 0 && done > warmup_ && (done - warmup_) % every_ == 0;
}

// EPLB from each layer's mean load per step over the window (steps since the last rebalance).
void SetupDynamics::rebalance(int64_t step, std::vector<Placement>& placement) {
  RebalanceRecord rec;
  rec.step = step + 1;
  rec.window_steps = window_steps_;
  for (size_t l = 0; l < placement.size(); ++l) {
    PlacementSpec s = spec_;
    s.weight.assign(window_[l].size(), 0.0);
    for (size_t e = 0; e < s.weight.size(); ++e)
      s.weight[e] = static_cast<double>(window_[l][e]) / static_cast<double>(window_steps_);
    Placement next = replace_(s);
    rec.moved_experts += moved_expert_copies(placement[l], next);
    placement[l] = std::move(next);
    std::fill(window_[l].begin(), window_[l].end(), 0);
  }
  rec.migration_bytes = rec.moved_experts * expert_bytes_;
  window_steps_ = 0;
  rebalances_.push_back(rec);
}

void SetupDynamics::end_of_step(int64_t step, std::vector<Placement>& placement) {
  if (!bias_.empty()) update_bias();
  if (window_.empty()) return;
  for (size_t l = 0; l < window_.size(); ++l)
    for (size_t e = 0; e < window_[l].size(); ++e) window_[l][e] += step_tokens_[l][e];
  ++window_steps_;
  if (rebalance_due(step)) rebalance(step, placement);
}

int64_t moved_expert_copies(const Placement& before, const Placement& after) {
  MOESIM_CHECK(before.num_logical == after.num_logical && before.num_devices == after.num_devices,
               "moved_expert_copies: placements of different shapes");
  const auto cells = static_cast<size_t>(after.num_devices) * after.num_logical;
  std::vector<uint8_t> had(cells, 0), has(cells, 0);  // [devices, logical]
  for (int p = 0; p < before.num_physical(); ++p)
    had[static_cast<size_t>(before.phy2dev[p]) * before.num_logical + before.phy2log[p]] = 1;
  for (int p = 0; p < after.num_physical(); ++p)
    has[static_cast<size_t>(after.phy2dev[p]) * after.num_logical + after.phy2log[p]] = 1;
  int64_t moved = 0;
  for (size_t i = 0; i < cells; ++i) moved += has[i] && !had[i];
  return moved;
}

}  // namespace moesim
