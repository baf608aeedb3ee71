// The planner. Routing does not depend on the hardware or the attention layout, only on (setup,
// expert-parallel ranks, ranks per node, tokens routed): each such routing input is routed once (a few
// steps x layers of samples) and every candidate sharing it is costed from the same samples, then the
// samples are dropped. A sample holds at most sample_tokens_per_rank tokens per EP rank; a bigger batch is
// costed from the sample's loads scaled up (plan_sampling_note() says what that does to the p99). Costing
// is ~100x cheaper than routing, so the search stays within seconds for thousands of candidates.
#include "moesim/plan.hpp"

#include "moesim/error.hpp"
#include "cost/model_math.hpp"
#include "plan/choose.hpp"
#include "sim/blocked_step.hpp"
#include "sim/throughput.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

namespace moesim {

namespace {

using RoutingKey = std::tuple<int, int, int, int64_t>;  // (setup, ep ranks, ranks per node, tokens routed)

struct Samples {
  std::vector<BatchLoad> loads;  // [steps * layers]
  Placement placement;
  std::string error;             // the routing input is invalid (e.g. the placement cannot spread the experts)
};

Samples route_samples(const PlanRequest& req, const RoutingKey& key, const Registries& reg) {
  const auto [si, ep, rpn, tokens] = key;
  const ScenarioSpec& base = req.base;
  const SetupSpec& setup = base.setups[size_t(si)];
  const int E = base.model.num_experts;
  const std::string at = "setups[" + std::to_string(si) + "]";
  Samples s;
  try {
    const PlacementInput in{E, ep, rpn, setup.router.groups, &setup.placement};
    s.placement = reg.placements.get(setup.placement.name).factory(in, base.file, at + ".placement");
  } catch (const Error& e) {
    s.error = e.problem();
    return s;
  }
  WorkloadInput wi{setup.workload, E, req.sample_layers, base.run.tokens_per_sequence, base.run.seed};
  wi.top_k = setup.router.k;
  wi.tokens_per_step = tokens;
  wi.steps = req.sample_steps;
  wi.model_layers = base.model.num_layers;
  wi.first_dense_layers = base.model.first_dense_layers;
  wi.file = base.file;
  std::unique_ptr<Workload> workload;
  try {
    workload = reg.workloads.get(setup.workload.name).factory(wi);
  } catch (const Error& e) {
    s.error = e.problem();
    return s;
  }
  if (workload->replays()) {
    s.error = at + ".workload replays a recorded trace; the planner varies the batch, so it needs a synthetic workload";
    return s;
  }
  const auto router = reg.routers.get(setup.router.name).factory.make(setup.router);
  ThreadPool serial(1);
  Scores scores;
  Assignments a;
  const BatchRoute route{router.get(), {}, &a};
  for (int t = 0; t < req.sample_steps; ++t)
    for (int l = 0; l < req.sample_layers; ++l) {
      route_batch(*workload, t, l, tokens, E, {&route, 1}, scores, serial);  // as the simulator routes
      apply_capacity(setup.capacity, E, setup.router.k, a);
      s.loads.push_back(measure_load(a, s.placement, rpn));
    }
  return s;
}

// A sample's loads scaled to a batch of `tokens`: every count grows by tokens / sample tokens (rounded).
// Distinct experts per device grow by the same factor up to the device's expert slots: exact once the
// sample touches every slot (the usual case: 1024 tokens per rank give each expert dozens of tokens),
// an upper bound otherwise, so that weight reads are never undercounted.
// Returns the sample itself when there is nothing to scale, else `b` filled; b's vectors keep their
// capacity from one candidate to the next: the traffic matrices of 256 EP ranks are 0.5 MB each, and
// allocating them afresh for every candidate costs more in page faults than the costing itself.
const BatchLoad& scale_load(const BatchLoad& sample, int64_t tokens, const Placement& placement, BatchLoad& b) {
  if (sample.tokens == tokens || sample.tokens == 0) return sample;
  b = sample;
  const double f = double(tokens) / double(sample.tokens);
  const auto up = [f](int64_t v) { return int64_t(std::llround(double(v) * f)); };
  std::vector<int32_t> slots(b.distinct_experts.size(), 0);
  for (int32_t d : placement.phy2dev)
    if (size_t(d) < slots.size()) ++slots[size_t(d)];
  for (size_t d = 0; d < b.distinct_experts.size(); ++d)
    b.distinct_experts[d] = std::min(slots[d], int32_t(std::ceil(b.distinct_experts[d] * f)));
  b.tokens = tokens;
  b.requested = up(sample.requested);
  b.dropped = up(sample.dropped);
  b.token_dest_devices = up(sample.token_dest_devices);
  b.token_dest_nodes = up(sample.token_dest_nodes);
  for (auto* v : {&b.expert_tokens, &b.device_assignments, &b.slot_tokens, &b.pair_tokens, &b.pair_assignments,
                  &b.pair_node_tokens})
    for (auto& x : *v) x = up(x);
  // The cost model reads a slot's weights when it holds tokens: slots the sample left empty but that the
  // bigger batch activates (distinct_experts above) get 1 assignment each, the device's lowest empty slots
  // first, so their weight reads are counted; one token's FLOPs are negligible beside them.
  std::vector<int32_t> active(b.distinct_experts.size(), 0);
  for (size_t q = 0; q < b.slot_tokens.size(); ++q)
    if (b.slot_tokens[q] > 0) ++active[size_t(placement.phy2dev[q])];
  for (size_t q = 0; q < b.slot_tokens.size(); ++q) {
    const auto d = size_t(placement.phy2dev[q]);
    if (b.slot_tokens[q] == 0 && active[d] < b.distinct_experts[d]) b.slot_tokens[q] = 1, ++active[d];
  }
  return b;
}

// KV length (decode) or prompt length (prefill) a phase is costed at. Mixed modes: a prompt of
// input_tokens; a decode batch in steady state holds sequences spread evenly over their answer, so its
// mean KV length is input + output / 2.
int64_t context_for(const PlanRequest& req, Phase phase) {
  if (req.mode == PlanMode::phase) return req.base.deployment.context_length;
  return phase == Phase::prefill ? req.input_tokens : req.input_tokens + req.output_tokens / 2;
}

// The tokens/s one phase must deliver: the target itself, or for the prefill pool of a mixed plan the
// prompts of the requests the target implies (target / output tokens x input tokens).
double phase_target(const PlanRequest& req, Phase phase) {
  if (req.mode == PlanMode::phase || phase == Phase::decode) return req.target_tokens_per_s;
  return req.target_tokens_per_s / double(req.output_tokens) * double(req.input_tokens);
}

ScenarioSpec candidate_spec(const PlanRequest& req, const HardwareSpec& hw, const PlanCandidate& c) {
  ScenarioSpec s = req.base;
  s.hardware = hw;
  s.cluster.hardware = hw.name;
  s.cluster.devices = c.devices;
  s.cluster.devices_per_node = hw.devices_per_node;
  DeploymentSpec& d = s.deployment;
  d.enabled = true;
  d.attention = {c.devices / c.attention_tp, c.attention_tp};
  d.experts = {c.devices / c.expert_tp, c.expert_tp};
  d.shared_tp = c.attention_tp;
  d.context_length = int(context_for(req, c.phase));
  if (req.mode != PlanMode::phase) {  // each phase with its usual all-to-all kernels (DeepEP's)
    d.phase = c.phase;
    d.all_to_all = c.phase == Phase::decode ? AllToAll::low_latency : AllToAll::normal;
  }
  s.run.tokens_per_step = c.tokens_per_step;
  s.run.steps = req.sample_steps;
  s.run.measure_from = 0;  // the samples are few and every one is measured (a warm-up is the scenario run's, not a sample's)
  s.run.layers = req.sample_layers;
  return s;
}

}  // namespace

// Disaggregated serving hands each prompt's KV cache from the prefill pool to the decode pool before the
// first token can follow (DistServe, arXiv 2401.09670; Mooncake, arXiv 2407.00079). One prompt's cache,
// kv_bytes_per_token x num_layers x prompt tokens, sits on kv_split(attention TP) devices (its KV heads'
// shards; MLA's latent cache is not split) and each sends its shard over its own scale-out NIC at the
// achievable scale-out rate, plus one scale-out latency. Counted after the prefill, not overlapped with
// it (an upper bound: engines that stream the cache layer by layer hide most of it), and the decode
// pool's NICs are taken to be no slower than the prefill pool's.
double kv_handoff_seconds(const ModelSpec& m, const DeploymentSpec& d, const HardwareSpec& hw, int64_t prompt_tokens) {
  using cost::kv_bytes_per_token, cost::kv_split;
  const double bytes = kv_bytes_per_token(m, d.kv_cache) * m.num_layers * double(prompt_tokens);
  const double rate = hw.scale_out.bandwidth_bytes_per_s * hw.eff.scale_out.value * kv_split(m, d.attention.tp);
  if (rate <= 0) return std::numeric_limits<double>::infinity();  // no scale-out link: no way across
  return hw.scale_out.latency_s + bytes / rate;
}

namespace {

std::string unsupported_precision(const DeploymentSpec& d, const HardwareSpec& hw) {
  if ((d.weights == DType::fp8 || d.activations == DType::fp8) && hw.flops_fp8 <= 0) return "no FP8 support";
  if (d.activations == DType::int8 && hw.flops_int8 <= 0) return "no INT8 support";
  return "";
}

void cost_candidate(const PlanRequest& req, const HardwareSpec& hw, const Samples& samples, const Registries& reg,
                    PlanCandidate& c) {
  if (!samples.error.empty()) {
    c.rejected = samples.error;
    return;
  }
  const ScenarioSpec spec = candidate_spec(req, hw, c);
  if (c.rejected = unsupported_precision(spec.deployment, hw); !c.rejected.empty()) return;
  const CostInput in{spec.model, hw, spec.deployment, c.devices, hw.devices_per_node, c.tokens_per_step};
  const auto cost = reg.cost_models.get(spec.cost_model).factory(in);
  c.memory = cost->memory(samples.placement);
  if (c.memory.total() > c.memory.capacity) {
    c.rejected = "does not fit in device memory";
    return;
  }
  std::vector<LayerCost> costs;
  thread_local BatchLoad scaled;  // reused: see scale_load
  for (const auto& load : samples.loads)
    costs.push_back(cost->moe_layer(scale_load(load, c.tokens_per_step, samples.placement, scaled), samples.placement));
  const ThroughputResult t = summarize_throughput(spec, *cost, samples.placement, costs, req.sample_layers);
  c.step_p99_s = t.step_s.p99;
  if (c.phase == Phase::decode) {
    c.latency_p99_s = c.step_p99_s * t.tpot_s / t.step_s.mean;  // MTP: several tokens per step
  } else {
    // Each attention-DP rank prefills its share of the step's tokens; a prompt longer than that share
    // takes several steps (chunked prefill) before its first token.
    const double per_rank = double(c.tokens_per_step) / spec.deployment.attention.dp;
    c.latency_p99_s = c.step_p99_s * std::max(1.0, std::ceil(double(spec.deployment.context_length) / per_rank));
    if (req.mode == PlanMode::disaggregated) {
      c.kv_handoff_s = kv_handoff_seconds(spec.model, spec.deployment, hw, req.input_tokens);
      if (!std::isfinite(c.kv_handoff_s)) {
        c.rejected = "no scale-out link to hand the KV cache to the decode pool";
        return;
      }
      c.latency_p99_s += c.kv_handoff_s;
    }
  }
  c.tokens_per_s = t.output_tokens_per_step / c.step_p99_s;
  c.tokens_per_s_per_device = c.tokens_per_s / c.devices;
  const double limit = c.phase == Phase::decode ? req.max_tpot_s : req.max_ttft_s;
  c.meets_latency = limit <= 0 || c.latency_p99_s <= limit;
  c.replicas = std::max(1, int(std::ceil(phase_target(req, c.phase) / c.tokens_per_s - 1e-12)));
  c.usd_per_hour = double(c.replicas) * c.devices * hw.usd_per_hour;
  c.usd_per_million_tokens = c.devices * hw.usd_per_hour / (c.tokens_per_s * 3600.0) * 1e6;
}

std::vector<PlanCandidate> enumerate(const PlanRequest& req) {
  std::vector<PlanCandidate> out;
  const int E = req.base.model.num_experts;
  std::vector<Phase> phases = {req.base.deployment.phase};
  if (req.mode != PlanMode::phase) phases = {Phase::prefill, Phase::decode};
  for (const Phase phase : phases)
    for (const auto& hw : req.hardware)
      for (int D : req.devices)
        for (int tp : req.tensor_parallel)
          for (int etp : req.tensor_parallel) {
            if (D % tp || D % etp || tp > hw.devices_per_node || etp > hw.devices_per_node) continue;
            const int ep = D / etp;
            if (ep > E && ep % E) continue;  // experts cannot be spread evenly over the ranks
            const bool decode = phase == Phase::decode;
            for (int b : decode ? req.decode_batch : req.prefill_batch)
              for (int si = 0; si < int(req.base.setups.size()); ++si) {
                PlanCandidate c;
                c.phase = phase;
                c.hardware = hw.name;
                c.setup = si;
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

// Pareto frontier per hardware and phase over the costed candidates.
void mark_frontier(std::vector<PlanCandidate>& cs) {
  std::vector<std::string> group;
  std::vector<bool> costed;
  std::vector<double> lat, thr;
  for (const PlanCandidate& c : cs) {
    group.push_back(std::string(to_string(c.phase)) + " " + c.hardware);
    costed.push_back(c.rejected.empty());
    lat.push_back(c.latency_p99_s);
    thr.push_back(c.tokens_per_s_per_device);
  }
  const std::vector<bool> on = pareto_frontier_by_group(group, costed, lat, thr);
  for (size_t i = 0; i < cs.size(); ++i) cs[i].on_frontier = on[i];
}

}  // namespace

PlanResult plan(const PlanRequest& req, const Registries& reg) {
  MOESIM_CHECK(!req.base.setups.empty() && req.base.model.is_moe(), "plan needs an MoE scenario with a setup");
  MOESIM_CHECK(req.sample_steps >= 1 && req.sample_layers >= 1, "plan needs at least one sampled step and layer");
  MOESIM_CHECK(req.mode == PlanMode::phase || (req.input_tokens > 0 && req.output_tokens > 0),
               "a mixed plan needs input and output tokens per request");
  PlanResult r;
  r.candidates = enumerate(req);
  std::map<std::string, const HardwareSpec*> hw;
  for (const auto& h : req.hardware) hw[h.name] = &h;
  // Distinct routing inputs, each with the candidates that share it.
  std::map<RoutingKey, size_t> key_index;
  std::vector<RoutingKey> keys;
  std::vector<std::vector<size_t>> users;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    auto& c = r.candidates[i];
    const int ep = c.devices / c.expert_tp;
    const int64_t cap = req.sample_tokens_per_rank > 0 ? req.sample_tokens_per_rank * ep : c.tokens_per_step;
    c.routed_tokens = std::min(c.tokens_per_step, cap);
    const RoutingKey k{c.setup, ep, std::max(1, hw.at(c.hardware)->devices_per_node / c.expert_tp), c.routed_tokens};
    const auto [it, added] = key_index.emplace(k, keys.size());
    if (added) keys.push_back(k), users.emplace_back();
    users[it->second].push_back(i);
  }
  r.routing_samples = int(keys.size());
  for (size_t k = 0; k < keys.size(); ++k)
    r.capped_samples += std::any_of(users[k].begin(), users[k].end(),
                                    [&](size_t i) { return r.candidates[i].routed_tokens < r.candidates[i].tokens_per_step; });
  // Each routing input on one thread (results never depend on the thread count); its samples live only
  // while its candidates are costed.
  ThreadPool pool(req.threads);
  pool.parallel_for(int64_t(keys.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const Samples samples = route_samples(req, keys[size_t(k)], reg);
      for (size_t i : users[size_t(k)]) cost_candidate(req, *hw.at(r.candidates[i].hardware), samples, reg, r.candidates[i]);
    }
  });
  mark_frontier(r.candidates);
  choose_plans(req, r);
  return r;
}

std::string plan_sampling_note(const PlanRequest& req, const PlanResult& r) {
  const int moe_layers = req.base.model.moe_layers();
  std::string s = "p99 step time over " + std::to_string(req.sample_steps) + " sampled steps, each from " +
                  std::to_string(req.sample_layers) + " routed MoE layers standing for all " + std::to_string(moe_layers) +
                  " (per-layer noise does not average out as over a real step, so the spread is wider)";
  if (req.sample_steps < 100) s += "; with fewer than 100 steps the p99 lies close to the slowest sampled step";
  s += ". " + std::to_string(r.routing_samples) + " distinct routing inputs were routed, each shared by every candidate "
       "with the same setup, expert-parallel ranks, ranks per node and batch";
  if (r.capped_samples > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 / std::sqrt(double(req.sample_tokens_per_rank) * req.base.model.top_k));
    s += "; " + std::to_string(r.capped_samples) + " of them route " + std::to_string(req.sample_tokens_per_rank) +
         " tokens per EP rank in place of the whole batch, their loads scaled up by batch / sample: a sample's relative "
         "load noise per rank (about 1 / sqrt(tokens x top-k) = " + buf +
         " for uniform routing) stays as large as the sample's while a real batch's shrinks, so the imbalance and "
         "the p99 are overestimated, never underestimated (a systematic skew scales exactly)";
  }
  return s + ".";
}

}  // namespace moesim
