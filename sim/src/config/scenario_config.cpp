// Scenario files: YAML -> ScenarioSpec (the public entry points of config.hpp).
//
// Schema (configs/README.md documents every key with its unit and default):
//   name, description            strings
//   model                        preset name, or a mapping of model keys (optionally `preset: NAME` + overrides)
//   cluster {devices, devices_per_node, hardware}
//   run {steps, tokens_per_step, tokens_per_sequence, layers, seed, threads, measure_from}
//   router, placement, capacity, workload   defaults applied to every setup
//   deployment {...}            throughput model (config/deployment_config.cpp); published [...] validation figures
//   setups: [{name, router, placement, capacity, workload}, ...]   each overrides the defaults key by key;
//           absent: one setup named "default" made of the defaults.
#include "config/deployment_config.hpp"
#include "config/hardware_config.hpp"
#include "config/model_config.hpp"
#include "config/overrides.hpp"
#include "config/schema.hpp"
#include "config/setup_config.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace moesim {
namespace {

using namespace config;

ClusterSpec read_cluster(const YAML::Node& n, const std::string& file) {
  FieldMap f;
  collect_fields(f, n, schema::kCluster, file, "cluster");
  ClusterSpec c;
  for (const auto& [k, fld] : f) {
    if (k == "devices") c.devices = read_int(fld.node, IntKind::positive, file, fld.key);
    else if (k == "devices_per_node") c.devices_per_node = read_int(fld.node, IntKind::positive, file, fld.key);
    else if (k == "hardware") c.hardware = fld.node.IsScalar() ? fld.node.Scalar() : "(inline)";
  }
  return c;
}

RunSpec read_run(const YAML::Node& n, const std::string& file, const ModelSpec& model) {
  FieldMap f;
  collect_fields(f, n, schema::kRun, file, "run");
  RunSpec r;
  for (const auto& [k, fld] : f) {
    const YAML::Node& v = fld.node;
    if (k == "steps") r.steps = read_int(v, IntKind::positive, file, fld.key);
    else if (k == "tokens_per_step") r.tokens_per_step = read_int64(v, IntKind::positive, file, fld.key);
    else if (k == "tokens_per_sequence") r.tokens_per_sequence = read_int(v, IntKind::positive, file, fld.key);
    else if (k == "layers") r.layers = read_int(v, IntKind::non_negative, file, fld.key);
    else if (k == "seed") r.seed = read_u64(v, file, fld.key);
    else if (k == "threads") r.threads = read_int(v, IntKind::non_negative, file, fld.key);
    else if (k == "measure_from") r.measure_from = read_int(v, IntKind::non_negative, file, fld.key);
  }
  if (r.measure_from >= r.steps)
    throw Error(file, f.at("measure_from").key, std::to_string(r.measure_from),
                "leaves no step to measure: run.steps is " + std::to_string(r.steps) +
                    " (after --steps / --set); lower it, e.g. --set run.measure_from=0");
  if (r.layers > model.moe_layers())
    throw Error(file, f.at("layers").key, std::to_string(r.layers),
                "exceeds the model's " + std::to_string(model.moe_layers()) + " MoE layers");
  return r;
}

void collect_sections(SetupFields& s, const YAML::Node& owner, const std::string& file, const std::string& prefix) {
  collect_fields(s.router, owner["router"], schema::kRouter, file, child_key(prefix, "router"));
  collect_fields(s.placement, owner["placement"], schema::kPlacement, file, child_key(prefix, "placement"));
  collect_fields(s.capacity, owner["capacity"], schema::kCapacity, file, child_key(prefix, "capacity"));
  collect_fields(s.workload, owner["workload"], schema::kWorkload, file, child_key(prefix, "workload"));
}

std::vector<SetupSpec> read_setups(const YAML::Node& root, const SetupContext& ctx) {
  const std::string& file = ctx.file;
  SetupFields defaults;
  collect_sections(defaults, root, file, "");
  const YAML::Node list = root["setups"];
  if (!list) return {make_setup("default", defaults, "", ctx)};
  if (!list.IsSequence() || list.size() == 0)
    throw Error(file, "setups", node_text(list), "expected a non-empty list of setups");
  std::vector<SetupSpec> out;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string prefix = index_key("setups", i);
    const YAML::Node item = list[i];
    require_map(item, file, prefix);
    check_keys(item, schema::kSetup, file, prefix);
    const std::string name_key = child_key(prefix, "name");
    if (!item["name"]) throw Error(file, name_key, "", "missing required key (the setup's name)");
    const std::string name = read_string(item["name"], file, name_key);
    if (!names.insert(name).second) throw Error(file, name_key, name, "duplicate setup name");
    SetupFields fields = defaults;
    collect_sections(fields, item, file, prefix);
    out.push_back(make_setup(name, fields, prefix, ctx));
  }
  return out;
}

ScenarioSpec convert_scenario(const YAML::Node& root, const std::string& file, const LoadOptions& opt,
                              const Registries& reg) {
  if (!root.IsMap()) throw Error(file, "", node_text(root), "expected a mapping of scenario keys");
  check_keys(root, schema::kTop, file, "");
  ScenarioSpec s;
  s.file = file;
  s.name = std::filesystem::path(file).stem().string();
  if (root["name"]) s.name = read_string(root["name"], file, "name");
  if (root["description"]) s.description = read_string(root["description"], file, "description");
  if (!opt.model_file.empty()) {
    s.model = model_from_hf_config(opt.model_file);  // --model: replaces the file's `model`, unread
  } else {
    if (!root["model"]) throw Error(file, "model", "", "missing required key (a model preset name or a mapping)");
    s.model = model_from_node(root["model"], file, "model", opt.preset_dirs);
  }
  s.cluster = read_cluster(root["cluster"], file);
  const YAML::Node cluster = root["cluster"];
  if (cluster && cluster.IsMap() && cluster["hardware"]) {
    s.hardware = hardware_from_node(cluster["hardware"], file, "cluster.hardware", opt.preset_dirs);
    s.cluster.hardware = s.hardware.name;
  }
  s.run = read_run(root["run"], file, s.model);
  s.deployment = deployment_from_node(root["deployment"], s, file);
  if (root["deployment"] && root["deployment"]["cost_model"])
    s.cost_model = read_string(root["deployment"]["cost_model"], file, "deployment.cost_model");
  s.published = published_from_node(root["published"], file);
  // Placements spread experts over the expert-parallel ranks (devices / expert tensor parallelism).
  ClusterSpec ranks = s.cluster;
  ranks.devices = s.deployment.experts.dp;
  ranks.devices_per_node = std::max(1, s.cluster.devices_per_node / s.deployment.experts.tp);
  s.setups = read_setups(root, SetupContext{s.model, ranks, reg, file});
  return s;
}

}  // namespace

ScenarioSpec parse_scenario(const std::string& yaml_text, const std::string& file_label, const LoadOptions& opt,
                            const Registries& reg) {
  YAML::Node root = parse_yaml(yaml_text, file_label);
  const std::vector<std::string> touched = apply_overrides(root, opt.overrides);
  try {
    return convert_scenario(root, file_label, opt, reg);
  } catch (const Error& e) {
    // A bad value that an override wrote is the override's fault, not the file's.
    if (e.file() == file_label && blames_override(e, touched)) throw Error("--set", e.key(), e.value(), e.problem());
    throw;
  }
}

ScenarioSpec load_scenario(const std::string& path, const LoadOptions& opt, const Registries& reg) {
  return parse_scenario(read_text_file(path), path, opt, reg);
}

}  // namespace moesim
