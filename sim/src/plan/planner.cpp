// The planner. Routing does not depend on the hardware or the attention layout, only on (expert-parallel
// ranks, ranks per node, tokens per step): each such routing input is routed once (a few steps x layers
// of samples) and every candidate sharing it is costed from the same samples. Costing is cheap (the cost
// model is ~100x faster than routing), so the search stays within seconds for thousands of candidates.
#include "moesim/plan.hpp"

#include "moesim/error.hpp"
#include "sim/throughput.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

namespace moesim {

namespace {

using RoutingKey = std::tuple<int, int, int64_t>;  // (ep ranks, ranks per node, tokens per step)

struct Samples {
  std::vector<BatchLoad> loads;  // [steps * layers]
  Placement placement;
  std::string error;             // the routing input is invalid (e.g. the placement cannot spread the experts)
};

Samples route_samples(const PlanRequest& req, const RoutingKey& key, const Registries& reg) {
  const auto [ep, rpn, tokens] = key;
  const ScenarioSpec& base = req.base;
  const SetupSpec& setup = base.setups.front();
  const int E = base.model.num_experts;
  Samples s;
  try {
    const PlacementInput in{E, ep, rpn, setup.router.groups, &setup.placement};
    s.placement = reg.placements.get(setup.placement.name).factory(in, base.file, "setups[0].placement");
  } catch (const Error& e) {
    s.error = e.problem();
    return s;
  }
  const WorkloadInput wi{setup.workload, E, req.sample_layers, base.run.tokens_per_sequence, base.run.seed};
  const auto workload = reg.workloads.get(setup.workload.name).factory(wi);
  const auto router = reg.routers.get(setup.router.name).factory.make(setup.router);
  ThreadPool serial(1);
  Scores scores;
  Assignments a;
  for (int t = 0; t < req.sample_steps; ++t)
    for (int l = 0; l < req.sample_layers; ++l) {
      workload->generate(t, l, tokens, scores, serial);
      router->route(scores, {}, a, serial);
      apply_capacity(setup.capacity, E, setup.router.k, a);
      s.loads.push_back(measure_load(a, s.placement, rpn));
    }
  return s;
}

ScenarioSpec candidate_spec(const PlanRequest& req, const HardwareSpec& hw, const PlanCandidate& c) {
  ScenarioSpec s = req.base;
  s.hardware = hw;
  s.cluster.hardware = hw.name;
  s.cluster.devices = c.devices;
  s.cluster.devices_per_node = hw.devices_per_node;
  s.deployment.enabled = true;
  s.deployment.attention = {c.devices / c.attention_tp, c.attention_tp};
  s.deployment.experts = {c.devices / c.expert_tp, c.expert_tp};
  s.deployment.shared_tp = c.attention_tp;
  s.run.tokens_per_step = c.tokens_per_step;
  s.run.steps = req.sample_steps;
  s.run.layers = req.sample_layers;
  return s;
}

void cost_candidate(const PlanRequest& req, const HardwareSpec& hw, const Samples& samples, const Registries& reg,
                    PlanCandidate& c) {
  if (!samples.error.empty()) {
    c.rejected = samples.error;
    return;
  }
  const ScenarioSpec spec = candidate_spec(req, hw, c);
  const DeploymentSpec& d = spec.deployment;
  if ((d.weights == DType::fp8 || d.activations == DType::fp8) && hw.flops_fp8 <= 0) {
    c.rejected = "no FP8 support";
    return;
  }
  if (d.activations == DType::int8 && hw.flops_int8 <= 0) {
    c.rejected = "no INT8 support";
    return;
  }
  const CostInput in{spec.model, hw, spec.deployment, c.devices, hw.devices_per_node, c.tokens_per_step};
  const auto cost = reg.cost_models.get(spec.cost_model).factory(in);
  const MemoryFootprint mem = cost->memory(samples.placement);
  c.fits = mem.total() <= mem.capacity;
  if (!c.fits) {
    c.rejected = "does not fit in device memory";
    return;
  }
  std::vector<LayerCost> costs;
  for (const auto& load : samples.loads) costs.push_back(cost->moe_layer(load, samples.placement));
  const ThroughputResult t = summarize_throughput(spec, *cost, samples.placement, costs, req.sample_layers);
  c.step_p99_s = t.step_s.p99;
  const double per_step = t.output_tokens_per_step;
  const bool decode = spec.deployment.phase == Phase::decode;
  c.latency_p99_s = decode ? c.step_p99_s * t.tpot_s / t.step_s.mean : c.step_p99_s;
  c.tokens_per_s = per_step / c.step_p99_s;
  c.tokens_per_s_per_device = c.tokens_per_s / c.devices;
  const double limit = decode ? req.max_tpot_s : req.max_ttft_s;
  c.meets_latency = limit <= 0 || c.latency_p99_s <= limit;
  c.replicas = std::max(1, int(std::ceil(req.target_tokens_per_s / c.tokens_per_s - 1e-12)));
  c.usd_per_hour = double(c.replicas) * c.devices * hw.usd_per_hour;
  c.usd_per_million_tokens = c.devices * hw.usd_per_hour / (c.tokens_per_s * 3600.0) * 1e6;
}

std::vector<PlanCandidate> enumerate(const PlanRequest& req) {
  std::vector<PlanCandidate> out;
  const int E = req.base.model.num_experts;
  const bool decode = req.base.deployment.phase == Phase::decode;
  for (const auto& hw : req.hardware)
    for (int D : req.devices)
      for (int tp : req.tensor_parallel)
        for (int etp : req.tensor_parallel) {
          if (D % tp || D % etp || tp > hw.devices_per_node || etp > hw.devices_per_node) continue;
          const int ep = D / etp;
          if (ep > E && ep % E) continue;  // experts cannot be spread evenly over the ranks
          for (int b : req.batch_per_device) {
            PlanCandidate c;
            c.hardware = hw.name;
            c.devices = D;
            c.attention_tp = tp;
            c.expert_tp = etp;
            c.batch_per_device = b;
            c.tokens_per_step = int64_t(b) * D * (decode ? 1 + req.base.deployment.mtp_tokens : 1);
            out.push_back(c);
          }
        }
  return out;
}

// Pareto frontier per hardware: a candidate that meets memory is on it when no other candidate of the
// same hardware has both lower (or equal) latency and higher (or equal) throughput per device, one strictly.
void mark_frontier(std::vector<PlanCandidate>& cs) {
  for (auto& a : cs) {
    if (!a.rejected.empty()) continue;
    a.on_frontier = std::none_of(cs.begin(), cs.end(), [&](const PlanCandidate& b) {
      return b.rejected.empty() && b.hardware == a.hardware && b.latency_p99_s <= a.latency_p99_s &&
             b.tokens_per_s_per_device >= a.tokens_per_s_per_device &&
             (b.latency_p99_s < a.latency_p99_s || b.tokens_per_s_per_device > a.tokens_per_s_per_device);
    });
  }
}

}  // namespace

PlanResult plan(const PlanRequest& req, const Registries& reg) {
  MOESIM_CHECK(!req.base.setups.empty() && req.base.model.is_moe(), "plan needs an MoE scenario with a setup");
  PlanResult r;
  r.candidates = enumerate(req);
  std::map<std::string, const HardwareSpec*> hw;
  for (const auto& h : req.hardware) hw[h.name] = &h;
  // Distinct routing inputs, routed once each (in parallel; each on one thread, so results never depend
  // on the thread count).
  std::map<RoutingKey, size_t> key_index;
  std::vector<RoutingKey> keys;
  std::vector<size_t> key_of(r.candidates.size());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const auto& c = r.candidates[i];
    const RoutingKey k{c.devices / c.expert_tp, std::max(1, hw.at(c.hardware)->devices_per_node / c.expert_tp),
                       c.tokens_per_step};
    const auto [it, added] = key_index.emplace(k, keys.size());
    if (added) keys.push_back(k);
    key_of[i] = it->second;
  }
  r.routing_samples = int(keys.size());
  std::vector<Samples> samples(keys.size());
  ThreadPool pool(req.threads);
  pool.parallel_for(int64_t(keys.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) samples[k] = route_samples(req, keys[k], reg);
  });
  pool.parallel_for(int64_t(r.candidates.size()), 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      cost_candidate(req, *hw.at(r.candidates[i].hardware), samples[key_of[i]], reg, r.candidates[i]);
  });
  mark_frontier(r.candidates);
  for (const auto& h : req.hardware) {
    int best = -1;
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      const auto& c = r.candidates[i];
      if (c.hardware != h.name || !c.rejected.empty() || !c.meets_latency) continue;
      if (best < 0 || c.usd_per_hour < r.candidates[best].usd_per_hour) best = int(i);
    }
    r.best.push_back(best);
  }
  return r;
}

}  // namespace moesim
