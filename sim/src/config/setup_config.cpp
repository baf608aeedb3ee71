// One setup's router, placement, capacity and workload, from YAML fields to specs.
#include "config/setup_config.hpp"

#include "config/placement_weights.hpp"
#include "config/schema.hpp"
#include "config/trace_config.hpp"

#include <cmath>

namespace moesim::config {
namespace {

// The value written for a section key, as text ("" when absent).
std::string text_of(const FieldMap& f, const std::string& k) {
  auto it = f.find(k);
  return it != f.end() ? node_text(it->second.node) : "";
}

// router.bias: a list of finite numbers (any sign), one per expert (the length is checked in make_router).
std::vector<float> read_bias_list(const Field& fld, const std::string& file) {
  if (!fld.node.IsSequence()) throw Error(file, fld.key, node_text(fld.node), "expected a list of numbers, one per routed expert");
  std::vector<float> out;
  for (size_t i = 0; i < fld.node.size(); ++i) {
    const std::string at = index_key(fld.key, i);
    const double v = read_number(fld.node[i], NumKind::any, file, at);
    if (!std::isfinite(static_cast<float>(v))) throw Error(file, at, node_text(fld.node[i]), "expected a number within the fp32 range");
    out.push_back(static_cast<float>(v));
  }
  return out;
}

void read_router_field(const std::string& k, const Field& fld, const std::string& file, RouterSpec& r) {
  const YAML::Node& v = fld.node;
  if (k == "name") r.name = read_string(v, file, fld.key);
  else if (k == "k") r.k = read_int(v, IntKind::positive, file, fld.key);
  else if (k == "groups") r.groups = read_int(v, IntKind::positive, file, fld.key);
  else if (k == "topk_group") r.topk_group = read_int(v, IntKind::non_negative, file, fld.key);
  else if (k == "scoring") r.scoring = static_cast<ScoringFunc>(read_choice(v, schema::kScoring, file, fld.key));
  else if (k == "normalize") r.normalize = read_bool(v, file, fld.key);
  else if (k == "scaling") r.scaling = read_number(v, NumKind::positive, file, fld.key);
  else if (k == "capacity_factor") r.capacity_factor = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "bias_update_speed") r.bias_update_speed = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "voted_experts") r.voted_experts = read_int(v, IntKind::non_negative, file, fld.key);
  else if (k == "group_score") r.group_score = static_cast<GroupScore>(read_choice(v, schema::kGroupScore, file, fld.key));
  else if (k == "bias") r.bias = read_bias_list(fld, file);
  else MOESIM_CHECK(false, "router key '" + k + "' passed check_keys");
}

// Constraints every router shares; router-specific ones are the registry entry's validate().
void check_router_counts(const RouterSpec& r, const FieldMap& f, const std::string& key, const std::string& file) {
  const std::string experts = std::to_string(r.num_experts);
  if (r.k > r.num_experts)
    throw Error(file, key_of(f, "k", key), std::to_string(r.k), "exceeds the model's " + experts + " routed experts");
  if (r.num_experts % r.groups != 0)
    throw Error(file, key_of(f, "groups", key), std::to_string(r.groups),
                "must divide the model's " + experts + " routed experts");
  if (r.topk_group > r.groups)
    throw Error(file, key_of(f, "topk_group", key), std::to_string(r.topk_group),
                "exceeds the router's " + std::to_string(r.groups) + " groups");
  if (!r.bias.empty() && static_cast<int>(r.bias.size()) != r.num_experts)
    throw Error(file, key_of(f, "bias", key), text_of(f, "bias"),
                "expected " + experts + " entries, one per routed expert, not " + std::to_string(r.bias.size()));
}

RouterSpec make_router(const FieldMap& f, const std::string& key, const SetupContext& c) {
  const ModelSpec& m = c.model;
  RouterSpec r;
  r.name = m.router;
  r.num_experts = m.num_experts;
  r.k = m.top_k;
  r.groups = m.num_groups;
  r.topk_group = m.topk_group;
  r.scoring = m.scoring;
  r.group_score = m.group_score;
  r.normalize = m.norm_topk_prob;
  r.scaling = m.routed_scaling_factor;
  for (const auto& [k, fld] : f) read_router_field(k, fld, c.file, r);
  const auto& entry = c.reg.routers.get(r.name, c.file, key_of(f, "name", key));
  for (const std::string& k : entry.factory.unused_keys) {
    if (!f.count(k)) continue;
    const std::string hint = k == "capacity_factor" ? "; token-choice routers take the setup's capacity.factor"
                             : k == "topk_group" || k == "group_score" ? "; only group_limited keeps a subset of groups"
                                                                       : "; remove it";
    throw Error(c.file, key_of(f, k, key), text_of(f, k), "the " + r.name + " router does not use " + k + hint);
  }
  if (!m.is_moe()) return r;  // a dense model routes nothing: only the name is checked
  check_router_counts(r, f, key, c.file);
  if (entry.factory.validate) entry.factory.validate(r, c.file, key);
  return r;
}

// eplb's estimated load per logical expert: a list of finite, non-negative numbers.
std::vector<double> read_weight_list(const Field& fld, const std::string& file) {
  if (!fld.node.IsSequence()) throw Error(file, fld.key, node_text(fld.node), "expected a list of non-negative loads");
  std::vector<double> out;
  for (size_t i = 0; i < fld.node.size(); ++i)
    out.push_back(read_number(fld.node[i], NumKind::non_negative, file, index_key(fld.key, i)));
  return out;
}

PlacementSpec make_placement(const FieldMap& f, const std::string& key, const SetupContext& c) {
  PlacementSpec p;
  const int devices = c.cluster.devices, experts = c.model.num_experts;
  for (const auto& [k, fld] : f) {
    if (k == "name") p.name = read_string(fld.node, c.file, fld.key);
    else if (k == "device_of_expert") p.device_of_expert = read_id_list(fld.node, devices, "a device id", c.file, fld.key);
    else if (k == "phy2log") p.phy2log = read_id_list(fld.node, experts, "an expert id", c.file, fld.key);
    else if (k == "phy2dev") p.phy2dev = read_id_list(fld.node, devices, "a device id", c.file, fld.key);
    else if (k == "replicas") p.replicas = read_int(fld.node, IntKind::non_negative, c.file, fld.key);
    else if (k == "weight") p.weight = read_weight_list(fld, c.file);
    else if (k == "warmup_steps") p.warmup_steps = read_int(fld.node, IntKind::non_negative, c.file, fld.key);
    else if (k == "rebalance_every") p.rebalance_every = read_int(fld.node, IntKind::non_negative, c.file, fld.key);
  }
  if (p.dynamic() && p.name != "eplb")
    throw Error(c.file, key_of(f, p.warmup_steps > 0 ? "warmup_steps" : "rebalance_every", key),
                text_of(f, p.warmup_steps > 0 ? "warmup_steps" : "rebalance_every"),
                "only the eplb placement rebalances during a simulation (placement is '" + p.name + "')");
  c.reg.placements.get(p.name, c.file, key_of(f, "name", key));
  if (!p.device_of_expert.empty() && static_cast<int>(p.device_of_expert.size()) != experts)
    throw Error(c.file, key_of(f, "device_of_expert", key), text_of(f, "device_of_expert"),
                "expected " + std::to_string(experts) + " entries, one device per routed expert");
  if (!p.weight.empty() && static_cast<int>(p.weight.size()) != experts)
    throw Error(c.file, key_of(f, "weight", key), text_of(f, "weight"),
                "expected " + std::to_string(experts) + " entries, one load per routed expert");
  if (p.replicas != 0 && p.replicas < experts)
    throw Error(c.file, key_of(f, "replicas", key), std::to_string(p.replicas),
                "must be at least the model's " + std::to_string(experts) + " routed experts (or 0: one per expert)");
  if (p.phy2log.size() != p.phy2dev.size())
    throw Error(c.file, key_of(f, "phy2dev", key), text_of(f, "phy2dev"),
                "expected " + std::to_string(p.phy2log.size()) + " entries, one device per entry of phy2log");
  read_placement_weights(f, key, c.model, c.file, p);  // weights_file, weights_from_trace, weights_steps
  return p;
}

CapacitySpec make_capacity(const FieldMap& f, const SetupContext& c) {
  CapacitySpec cap;
  for (const auto& [k, fld] : f)
    if (k == "factor") cap.factor = read_number(fld.node, NumKind::non_negative, c.file, fld.key);
  return cap;
}

void read_workload_field(const std::string& k, const Field& fld, const std::string& file, WorkloadSpec& w) {
  const YAML::Node& v = fld.node;
  if (k == "name") w.name = read_string(v, file, fld.key);
  else if (k == "popularity") w.popularity = static_cast<Popularity>(read_choice(v, schema::kPopularity, file, fld.key));
  else if (k == "zipf_exponent") w.zipf_exponent = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "lognormal_sigma") w.lognormal_sigma = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "shuffle_layers") w.shuffle_layers = read_bool(v, file, fld.key);
  else if (k == "layer_sigma") w.layer_sigma = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "sequence_correlation") w.sequence_correlation = read_number(v, NumKind::unit_interval, file, fld.key);
  else if (k == "logit_scale") w.logit_scale = read_number(v, NumKind::positive, file, fld.key);
  else if (k == "drift") w.drift = read_number(v, NumKind::non_negative, file, fld.key);
  else if (k == "path") w.path = read_string(v, file, fld.key);
  else if (k == "format") w.format = std::string(schema::kTraceFormat[read_choice(v, schema::kTraceFormat, file, fld.key)]);
  else MOESIM_CHECK(false, "workload key '" + k + "' passed check_keys");
}

WorkloadSpec make_workload(const FieldMap& f, const std::string& key, const SetupContext& c) {
  WorkloadSpec w;
  for (const auto& [k, fld] : f) read_workload_field(k, fld, c.file, w);
  c.reg.workloads.get(w.name, c.file, key_of(f, "name", key));
  check_trace_workload(w, key_of(f, "path", key), key_of(f, "format", key), c.file);
  return w;
}

}  // namespace

SetupSpec make_setup(const std::string& name, const SetupFields& fields, const std::string& prefix,
                     const SetupContext& ctx) {
  SetupSpec s;
  s.name = name;
  s.router = make_router(fields.router, child_key(prefix, "router"), ctx);
  s.placement = make_placement(fields.placement, child_key(prefix, "placement"), ctx);
  s.capacity = make_capacity(fields.capacity, ctx);
  s.workload = make_workload(fields.workload, child_key(prefix, "workload"), ctx);
  check_trace_setup(s.workload, fields.router, fields.workload, ctx.file);
  return s;
}

}  // namespace moesim::config
