// workload/drift.cpp: expert popularity drifting over steps as a log-space random walk (workload.drift).
#include "workload/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace moesim::workload_detail {

struct DriftWalk::State {
  std::mutex mu;
  int64_t step = 0;          // the walk below is W_step
  std::vector<double> walk;  // [num_experts] W_step, the sum of the increments 1..step
};

DriftWalk::DriftWalk(const WorkloadInput& in) : in_(in) {
  for (int l = 0; l < in.num_layers; ++l) {
    states_.push_back(std::make_unique<State>());
    states_.back()->walk.assign(static_cast<size_t>(in.num_experts), 0.0);
  }
}

DriftWalk::~DriftWalk() = default;

// Moves st to W_step: forward from its step, or from W_0 = 0 when the step is earlier.
void DriftWalk::walk_to(State& st, int layer, int64_t step) const {
  if (step < st.step) {
    st.step = 0;
    std::fill(st.walk.begin(), st.walk.end(), 0.0);
  }
  std::vector<double> z;
  for (int64_t s = st.step + 1; s <= step; ++s) {
    const Philox rng(in_.seed, stream_id(static_cast<uint64_t>(s), static_cast<uint64_t>(layer), Purpose::drift));
    fill_normals(rng, in_.num_experts, z);
    for (size_t e = 0; e < z.size(); ++e) st.walk[e] += in_.spec.drift * z[e];
  }
  st.step = step;
}

std::vector<float> DriftWalk::log_popularity(int layer, int64_t step) const {
  const int n = in_.num_experts;
  std::vector<double> logp = synthetic_popularity(in_, layer);  // p_0, sums to 1
  for (double& v : logp) v = std::log(v);
  State scratch;  // layers beyond num_layers are walked from 0 every time
  State& st = layer >= 0 && layer < in_.num_layers ? *states_[static_cast<size_t>(layer)] : scratch;
  {
    const std::lock_guard<std::mutex> lock(st.mu);
    if (st.walk.empty()) st.walk.assign(static_cast<size_t>(n), 0.0);
    walk_to(st, layer, step);
    for (int e = 0; e < n; ++e) logp[static_cast<size_t>(e)] += st.walk[static_cast<size_t>(e)];
  }
  // Renormalise in log space: log p - log sum exp(log p), the max subtracted first.
  const double top = *std::max_element(logp.begin(), logp.end());
  double sum = 0.0;
  for (double v : logp) sum += std::exp(v - top);
  const double log_norm = top + std::log(sum);
  std::vector<float> out(static_cast<size_t>(n));
  for (int e = 0; e < n; ++e) out[static_cast<size_t>(e)] = static_cast<float>(logp[static_cast<size_t>(e)] - log_norm);
  return out;
}

}  // namespace moesim::workload_detail
