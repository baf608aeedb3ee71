// The simulator only wires the plug-ins together: workload -> router -> capacity -> placement ->
// metrics, for every setup, step and MoE layer. It does no I/O.
#include "moesim/simulator.hpp"

#include "sim/blocked_step.hpp"
#include "sim/dynamics.hpp"
#include "sim/throughput.hpp"

#include <algorithm>
#include <memory>

namespace moesim {

namespace {

bool same_workload(const WorkloadSpec& a, const WorkloadSpec& b) {
  return a.name == b.name && a.popularity == b.popularity && a.zipf_exponent == b.zipf_exponent &&
         a.lognormal_sigma == b.lognormal_sigma && a.shuffle_layers == b.shuffle_layers &&
         a.layer_sigma == b.layer_sigma && a.sequence_correlation == b.sequence_correlation &&
         a.logit_scale == b.logit_scale && a.drift == b.drift && a.path == b.path && a.format == b.format;
}

// Everything one setup needs during the run, built once.
struct SetupRuntime {
  std::unique_ptr<Router> router;
  std::vector<Placement> placement;  // [layers]
  size_t workload = 0;               // index into the distinct workloads
  std::unique_ptr<CostModel> cost;   // null without a deployment
  SetupDynamics dyn;                 // router bias and in-simulation EPLB (sim/dynamics.hpp)
};

// One routed expert's parameter bytes (gate, up and down projections): 3 x hidden x moe_intermediate x
// the deployment's weight dtype bytes (bf16 without a deployment).
int64_t expert_param_bytes(const ScenarioSpec& spec) {
  const double bytes = spec.deployment.enabled ? bytes_of(spec.deployment.weights) : bytes_of(DType::bf16);
  return static_cast<int64_t>(3.0 * spec.model.hidden * spec.model.moe_intermediate * bytes);
}

// [layers] the placement of each simulated MoE layer: one for all, or one per layer from the spec's
// layer_weight (placement.weights_file / weights_from_trace; config checked it covers every MoE layer).
// make: the placement of a spec (the same the dynamics use to rebalance).
std::vector<Placement> initial_placements(const PlacementSpec& ps, int layers,
                                          const SetupDynamics::Replace& make) {
  if (ps.layer_weight.empty()) return std::vector<Placement>(static_cast<size_t>(layers), make(ps));
  MOESIM_CHECK(ps.layer_weight.size() >= static_cast<size_t>(layers), "layer_weight covers fewer layers than simulated");
  std::vector<Placement> out;
  for (int l = 0; l < layers; ++l) {
    PlacementSpec one = ps;
    one.weight = ps.layer_weight[static_cast<size_t>(l)];
    one.layer_weight.clear();
    out.push_back(make(one));
  }
  return out;
}

// Raw per-(step, layer) results of one setup, written by exactly one task each.
struct SetupAccumulator {
  std::vector<MetricValues> values;                  // [steps * layers]
  std::vector<int32_t> expert_tokens;                // [steps * layers, experts] kept assignments per cell
  std::vector<int32_t> device_assign;                // [steps * layers, devices] kept assignments per cell
  std::vector<int64_t> requested, dropped;           // [layers] summed over steps
  std::vector<LayerCost> cost;                       // [steps * layers] when a cost model runs
};

struct Run {
  const ScenarioSpec& spec;
  int layers, experts, devices;  // devices: expert-parallel ranks the placement spreads experts over
  int ranks_per_node;
  std::vector<std::unique_ptr<Workload>> workloads;
  std::vector<SetupRuntime> setups;
  std::vector<SetupAccumulator> acc;
};

Run build_run(const ScenarioSpec& spec, const Registries& reg) {
  const int etp = spec.deployment.experts.tp;
  Run run{spec, spec.simulated_layers(), spec.model.num_experts, spec.deployment.experts.dp,
          std::max(1, spec.cluster.devices_per_node / etp), {}, {}, {}};
  std::vector<const WorkloadSpec*> distinct;
  for (size_t s = 0; s < spec.setups.size(); ++s) {
    const SetupSpec& setup = spec.setups[s];
    const std::string key = "setups[" + std::to_string(s) + "]";
    SetupRuntime rt;
    rt.router = reg.routers.get(setup.router.name, spec.file, key + ".router.name").factory.make(setup.router);
    PlacementInput in{run.experts, run.devices, run.ranks_per_node, setup.router.groups, &setup.placement};
    const auto& place = reg.placements.get(setup.placement.name, spec.file, key + ".placement.name");
    const SetupDynamics::Replace make_placement = [in, factory = place.factory, file = spec.file,
                                                   at = key + ".placement"](const PlacementSpec& ps) {
      PlacementInput with = in;
      with.spec = &ps;
      return factory(with, file, at);
    };
    rt.placement = initial_placements(setup.placement, run.layers, make_placement);
    rt.dyn = SetupDynamics(setup, run.layers, run.experts, spec.run.steps, expert_param_bytes(spec), make_placement);
    size_t w = 0;
    while (w < distinct.size() && !same_workload(*distinct[w], setup.workload)) ++w;
    if (w == distinct.size()) {
      distinct.push_back(&setup.workload);
      WorkloadInput wi{setup.workload, run.experts, run.layers, spec.run.tokens_per_sequence, spec.run.seed,
                       spec.model.top_k, spec.run.tokens_per_step, spec.run.steps, spec.model.num_layers,
                       spec.model.first_dense_layers, spec.file};
      run.workloads.push_back(reg.workloads.get(setup.workload.name, spec.file, key + ".workload.name").factory(wi));
    }
    rt.workload = w;
    if (spec.deployment.enabled) rt.cost = make_cost_model(spec, reg, rt.placement.front(), key);
    run.setups.push_back(std::move(rt));
    SetupAccumulator a;
    a.values.resize(static_cast<size_t>(spec.run.steps) * run.layers);
    a.expert_tokens.assign(a.values.size() * run.experts, 0);
    a.device_assign.assign(a.values.size() * run.devices, 0);
    a.requested.assign(run.layers, 0);
    a.dropped.assign(run.layers, 0);
    if (spec.deployment.enabled) a.cost.resize(a.values.size());
    run.acc.push_back(std::move(a));
  }
  return run;
}

// Routes every setup of workload w at one (step, layer) into assign[s]: a trace's recorded assignments,
// else the workload's batch routed by each setup's router (route_batch: in cache-sized blocks where it can).
void route_workload(Run& run, size_t w, int64_t step, int layer, ThreadPool& pool, std::vector<Assignments>& assign) {
  const Workload& workload = *run.workloads[w];
  if (workload.replays()) {  // a trace: recorded assignments, no router
    thread_local Assignments replayed;
    workload.replay(step, layer, replayed);
    for (size_t s = 0; s < run.setups.size(); ++s)
      if (run.setups[s].workload == w) assign[s] = replayed;
    return;
  }
  thread_local Scores scores;
  std::vector<BatchRoute> routes;
  for (size_t s = 0; s < run.setups.size(); ++s) {
    const SetupRuntime& rt = run.setups[s];
    if (rt.workload == w) routes.push_back({rt.router.get(), rt.dyn.bias(layer), &assign[s]});
  }
  route_batch(workload, step, layer, run.spec.run.tokens_per_step, run.experts, routes, scores, pool);
}

// One (step, layer): route each distinct workload's batch with every setup on it, then each setup's
// dynamics, capacity, placement and metrics.
void simulate_cell(Run& run, int64_t step, int layer, ThreadPool& pool) {
  thread_local std::vector<Assignments> assign;  // [setups] this cell's routing of each setup
  assign.resize(run.setups.size());
  const ScenarioSpec& spec = run.spec;
  for (size_t w = 0; w < run.workloads.size(); ++w) {
    route_workload(run, w, step, layer, pool, assign);
    for (size_t s = 0; s < run.setups.size(); ++s) {
      SetupRuntime& rt = run.setups[s];
      if (rt.workload != w) continue;
      const SetupSpec& setup = spec.setups[s];
      Assignments& a_s = assign[s];
      if (rt.dyn.records()) rt.dyn.record(layer, a_s);  // selections, before capacity drops
      apply_capacity(setup.capacity, run.experts, setup.router.k, a_s);
      const BatchLoad load = measure_load(a_s, rt.placement[layer], run.ranks_per_node);
      SetupAccumulator& a = run.acc[s];
      const size_t cell = static_cast<size_t>(step) * run.layers + layer;
      a.values[cell] = batch_metrics(load);
      if (rt.cost) a.cost[cell] = rt.cost->moe_layer(load, rt.placement[layer]);
      if (step < spec.run.measure_from) continue;  // a warm-up step: in the per-step series only
      // A cell holds at most tokens x k assignments; configs bound tokens_per_step far below 2^31 / k.
      std::copy(load.expert_tokens.begin(), load.expert_tokens.end(), a.expert_tokens.begin() + cell * run.experts);
      std::copy(load.device_assignments.begin(), load.device_assignments.end(),
                a.device_assign.begin() + cell * run.devices);
      a.requested[layer] += load.requested;
      a.dropped[layer] += load.dropped;
    }
  }
}

std::array<Distribution, kNumMetrics> summarize_metrics(const std::vector<const MetricValues*>& rows) {
  std::array<Distribution, kNumMetrics> out;
  std::vector<double> col(rows.size());
  for (int m = 0; m < kNumMetrics; ++m) {
    for (size_t i = 0; i < rows.size(); ++i) col[i] = (*rows[i])[m];
    out[m] = summarize(col);
  }
  return out;
}

// Every aggregate covers the measured steps, run.measure_from .. run.steps - 1; the per-step series and
// the rebalances cover every step.
SetupResult finish_setup(const Run& run, size_t s) {
  const SetupAccumulator& a = run.acc[s];
  const int steps = run.spec.run.steps, from = run.spec.run.measure_from, measured = steps - from;
  const auto first_cell = static_cast<size_t>(from) * run.layers;
  SetupResult r;
  r.spec = run.spec.setups[s];
  std::vector<const MetricValues*> all;
  for (size_t c = first_cell; c < a.values.size(); ++c) all.push_back(&a.values[c]);
  r.overall = summarize_metrics(all);
  for (int l = 0; l < run.layers; ++l) {
    std::vector<const MetricValues*> rows;
    for (int t = from; t < steps; ++t) rows.push_back(&a.values[static_cast<size_t>(t) * run.layers + l]);
    r.per_layer.push_back(summarize_metrics(rows));
    std::vector<Distribution> et(run.experts);
    std::vector<double> col(static_cast<size_t>(measured));
    for (int e = 0; e < run.experts; ++e) {
      for (int t = from; t < steps; ++t)
        col[t - from] = a.expert_tokens[(static_cast<size_t>(t) * run.layers + l) * run.experts + e];
      et[e] = summarize(col);
    }
    r.expert_tokens.push_back(std::move(et));
    r.expert_tokens_mean.emplace_back();
    for (const auto& d : r.expert_tokens.back()) r.expert_tokens_mean.back().push_back(d.mean);
    r.requested += a.requested[l];
    r.dropped += a.dropped[l];
  }
  for (int t = 0; t < steps; ++t) {
    MetricValues mean{};
    for (int l = 0; l < run.layers; ++l)
      for (int m = 0; m < kNumMetrics; ++m) mean[m] += a.values[static_cast<size_t>(t) * run.layers + l][m] / run.layers;
    r.per_step.push_back(mean);
  }
  if (run.setups[s].cost) {
    ScenarioSpec measured_spec = run.spec;  // the throughput figures see the measured steps only
    measured_spec.run.steps = measured;
    const std::vector<LayerCost> costs(a.cost.begin() + static_cast<std::ptrdiff_t>(first_cell), a.cost.end());
    r.throughput = summarize_throughput(measured_spec, *run.setups[s].cost, run.setups[s].placement.front(), costs,
                                        run.layers);
  }
  r.rebalances = run.setups[s].dyn.rebalances();
  for (const auto& rb : r.rebalances) r.migration_bytes += rb.migration_bytes;
  std::vector<double> col(a.values.size() - first_cell);
  for (int d = 0; d < run.devices; ++d) {
    for (size_t c = first_cell; c < a.values.size(); ++c) col[c - first_cell] = a.device_assign[c * run.devices + d];
    r.device_assignments.push_back(summarize(col));
    r.device_assignments_mean.push_back(r.device_assignments.back().mean);
  }
  return r;
}

// A dense model has nothing to route: every setup is costed from its dense blocks alone.
ScenarioResult simulate_dense(const ScenarioSpec& spec, const Registries& reg) {
  if (!spec.deployment.enabled)
    throw Error(spec.file, "model", spec.model.name,
                "is a dense model (no routed experts): there is nothing to route; add a deployment section to cost it");
  ScenarioResult result{spec, {}};
  const Placement none;
  for (size_t s = 0; s < spec.setups.size(); ++s) {
    SetupResult r;
    r.spec = spec.setups[s];
    const auto cost = make_cost_model(spec, reg, none, "setups[" + std::to_string(s) + "]");
    r.throughput = summarize_throughput(spec, *cost, none, {}, 0);
    result.setups.push_back(std::move(r));
  }
  return result;
}

}  // namespace

void check_scenario(const ScenarioSpec& spec, const Registries& reg) {
  if (!spec.model.is_moe()) {
    simulate_dense(spec, reg);  // costs a dense model once per setup: cheap, and it raises what a run would
    return;
  }
  (void)build_run(spec, reg);
}

ScenarioResult simulate(const ScenarioSpec& spec, const Registries& reg) {
  if (spec.run.measure_from < 0 || spec.run.measure_from >= spec.run.steps)  // config checks it; specs built in code too
    throw Error(spec.file, "run.measure_from", std::to_string(spec.run.measure_from),
                "leaves no step to measure: run.steps is " + std::to_string(spec.run.steps));
  if (!spec.model.is_moe()) return simulate_dense(spec, reg);
  Run run = build_run(spec, reg);
  ThreadPool pool(spec.run.threads);
  ThreadPool serial(1);
  for (int64_t step = 0; step < spec.run.steps; ++step) {
    if (run.layers >= pool.threads() && pool.threads() > 1) {
      // Coarse parallelism: one task per layer, each routing its batch on one thread.
      pool.parallel_for(run.layers, 1, [&](int64_t l0, int64_t l1) {
        for (int64_t l = l0; l < l1; ++l) simulate_cell(run, step, static_cast<int>(l), serial);
      });
    } else {
      for (int l = 0; l < run.layers; ++l) simulate_cell(run, step, l, pool);
    }
    for (auto& rt : run.setups) rt.dyn.end_of_step(step, rt.placement);  // between steps: one thread
  }
  ScenarioResult result{spec, {}};
  for (size_t s = 0; s < run.setups.size(); ++s) result.setups.push_back(finish_setup(run, s));
  return result;
}

}  // namespace moesim
