#include "report/scenario_json.hpp"

#include "report/throughput_report.hpp"

namespace moesim {

using nlohmann::ordered_json;

ordered_json to_json(const ModelSpec& m) {
  ordered_json j;
  j["name"] = m.name;
  j["source"] = m.source;
  j["num_layers"] = m.num_layers;
  j["first_dense_layers"] = m.first_dense_layers;
  j["hidden"] = m.hidden;
  j["vocab"] = m.vocab;
  j["attention"] = to_string(m.attention);
  j["num_heads"] = m.num_heads;
  if (m.attention == AttentionKind::gqa) {
    j["num_kv_heads"] = m.num_kv_heads;
    j["head_dim"] = m.head_dim;
  } else {
    j["q_lora_rank"] = m.q_lora_rank;
    j["kv_lora_rank"] = m.kv_lora_rank;
    j["qk_nope_head_dim"] = m.qk_nope_head_dim;
    j["qk_rope_head_dim"] = m.qk_rope_head_dim;
    j["v_head_dim"] = m.v_head_dim;
  }
  j["dense_intermediate"] = m.dense_intermediate;
  j["num_experts"] = m.num_experts;
  j["top_k"] = m.top_k;
  j["num_groups"] = m.num_groups;
  j["topk_group"] = m.topk_group;
  j["num_shared_experts"] = m.num_shared_experts;
  j["shared_intermediate"] = m.shared_intermediate;
  j["moe_intermediate"] = m.moe_intermediate;
  j["scoring"] = to_string(m.scoring);
  j["group_score"] = to_string(m.group_score);
  j["norm_topk_prob"] = m.norm_topk_prob;
  j["routed_scaling_factor"] = m.routed_scaling_factor;
  j["router"] = m.router;
  return j;
}

ordered_json to_json(const SetupSpec& s) {
  ordered_json j;
  j["name"] = s.name;
  const RouterSpec& r = s.router;
  j["router"] = {{"name", r.name},          {"k", r.k},
                 {"groups", r.groups},      {"topk_group", r.topk_group},
                 {"scoring", to_string(r.scoring)}, {"normalize", r.normalize},
                 {"scaling", r.scaling},    {"capacity_factor", r.capacity_factor}};
  if (r.bias_update_speed != 0) j["router"]["bias_update_speed"] = r.bias_update_speed;  // new keys: only when set,
  if (r.voted_experts != 0) j["router"]["voted_experts"] = r.voted_experts;              // so older documents stay
  if (r.name == "group_limited") j["router"]["group_score"] = to_string(r.group_score);  // the same
  if (!r.bias.empty()) j["router"]["bias"] = r.bias;
  ordered_json p = {{"name", s.placement.name}};
  if (!s.placement.device_of_expert.empty()) p["device_of_expert"] = s.placement.device_of_expert;
  if (!s.placement.phy2log.empty()) p["phy2log"] = s.placement.phy2log;
  if (!s.placement.phy2dev.empty()) p["phy2dev"] = s.placement.phy2dev;
  if (s.placement.replicas != 0) p["replicas"] = s.placement.replicas;
  if (!s.placement.weight.empty()) p["weight"] = s.placement.weight;
  if (!s.placement.weights_file.empty()) p["weights_file"] = s.placement.weights_file;  // layer_weight: too long to echo
  if (!s.placement.weights_from_trace.empty()) p["weights_from_trace"] = s.placement.weights_from_trace;
  if (!s.placement.weights_steps.empty()) p["weights_steps"] = s.placement.weights_steps;
  if (s.placement.warmup_steps != 0) p["warmup_steps"] = s.placement.warmup_steps;
  if (s.placement.rebalance_every != 0) p["rebalance_every"] = s.placement.rebalance_every;
  j["placement"] = p;
  j["capacity"] = {{"factor", s.capacity.factor}};
  const WorkloadSpec& w = s.workload;
  if (!w.path.empty()) {  // trace replay: only the resolved trace and its format (the synthetic keys do not apply)
    j["workload"] = {{"name", w.name}, {"path", w.path}, {"format", w.format}};
    return j;
  }
  j["workload"] = {{"name", w.name},
                   {"popularity", to_string(w.popularity)},
                   {"zipf_exponent", w.zipf_exponent},
                   {"lognormal_sigma", w.lognormal_sigma},
                   {"shuffle_layers", w.shuffle_layers},
                   {"layer_sigma", w.layer_sigma},
                   {"sequence_correlation", w.sequence_correlation},
                   {"logit_scale", w.logit_scale}};
  if (w.drift != 0) j["workload"]["drift"] = w.drift;
  return j;
}

ordered_json to_json(const ScenarioSpec& s) {
  ordered_json j;
  j["name"] = s.name;
  j["description"] = s.description;
  j["file"] = s.file;
  j["model"] = to_json(s.model);
  j["cluster"] = {{"devices", s.cluster.devices}, {"devices_per_node", s.cluster.devices_per_node}};
  if (s.deployment.enabled) {  // the throughput model's inputs: only with a deployment, so other documents keep their keys
    j["cluster"]["hardware"] = hardware_json(s.hardware);
    j["deployment"] = deployment_json(s.deployment);
  }
  j["run"] = {{"steps", s.run.steps},
              {"tokens_per_step", s.run.tokens_per_step},
              {"tokens_per_sequence", s.run.tokens_per_sequence},
              {"layers", s.simulated_layers()},
              {"measure_from", s.run.measure_from},
              {"seed", s.run.seed}};
  ordered_json setups = ordered_json::array();
  for (const auto& st : s.setups) setups.push_back(to_json(st));
  j["setups"] = setups;
  return j;
}

}  // namespace moesim
