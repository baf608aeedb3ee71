// The deployment section: parallel layout, precisions, overlap, all-to-all kind and multi-token
// prediction. Defaults: attention and experts fully data/expert parallel over the devices (dp = ep =
// devices, tp = 1), bf16 everywhere, no overlap, all_to_all "auto" (low_latency at decode, normal at prefill).
#include "config/deployment_config.hpp"

#include "config/schema.hpp"
#include "config/yaml_util.hpp"

#include <array>

namespace moesim::config {

namespace {

using K = std::string_view;
// The key lists live in schema.hpp, shared with the --set path checker.
using schema::kDeployment;
constexpr const auto& kAttention = schema::kDeploymentAttention;
constexpr const auto& kExperts = schema::kDeploymentExperts;
constexpr const auto& kShared = schema::kDeploymentShared;
constexpr const auto& kDtypes = schema::kDeploymentDtypes;
constexpr const auto& kMtp = schema::kDeploymentMtp;
constexpr const auto& kTraining = schema::kDeploymentTraining;
constexpr std::array<K, 3> kRecompute = {"none", "selective", "full"};
constexpr std::array<K, 3> kPhase = {"decode", "prefill", "training"};
constexpr std::array<K, 3> kDType = {"bf16", "fp8", "int8"};
constexpr std::array<K, 3> kAllToAll = {"auto", "normal", "low_latency"};
using schema::kPublished;
constexpr const auto& kMiss = schema::kPublishedMiss;
constexpr std::array<K, 2> kRole = {"held_out", "calibration"};

using Reader = void (*)(const YAML::Node&, DeploymentSpec&, const std::string&, const std::string&);

// Calls fn(key, value, key path) for every key of the optional mapping n, after checking the keys.
template <class F>
void each(const YAML::Node& n, std::span<const K> valid, const std::string& file, const std::string& key, F fn) {
  if (!n) return;
  require_map(n, file, key);
  check_keys(n, valid, file, key);
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    fn(k, kv.second, child_key(key, k));
  }
}

DType read_dtype(const YAML::Node& v, const std::string& file, const std::string& key) {
  return static_cast<DType>(read_choice(v, kDType, file, key));
}

void read_sections(const YAML::Node& n, DeploymentSpec& d, const std::string& file, int& a2a_choice) {
  each(n, kDeployment, file, "deployment", [&](const std::string& k, const YAML::Node& v, const std::string& key) {
    if (k == "phase") d.phase = static_cast<Phase>(read_choice(v, kPhase, file, key));
    else if (k == "context_length") d.context_length = read_int(v, IntKind::positive, file, key);
    else if (k == "overlap") d.overlap = read_bool(v, file, key);
    else if (k == "all_to_all") a2a_choice = static_cast<int>(read_choice(v, kAllToAll, file, key));
    else if (k == "attention")
      each(v, kAttention, file, key, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
        (q == "dp" ? d.attention.dp : d.attention.tp) = read_int(w, IntKind::positive, file, qk);
      });
    else if (k == "experts")
      each(v, kExperts, file, key, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
        (q == "ep" ? d.experts.dp : d.experts.tp) = read_int(w, IntKind::positive, file, qk);
      });
    else if (k == "shared_experts")
      each(v, kShared, file, key, [&](const std::string&, const YAML::Node& w, const std::string& qk) {
        d.shared_tp = read_int(w, IntKind::positive, file, qk);
      });
    else if (k == "dtypes")
      each(v, kDtypes, file, key, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
        const DType t = read_dtype(w, file, qk);
        if (q == "weights") d.weights = t;
        else if (q == "activations") d.activations = t;
        else if (q == "kv_cache") d.kv_cache = t;
        else if (q == "dispatch") d.dispatch = t;
        else d.combine = t;
      });
    else if (k == "mtp")
      each(v, kMtp, file, key, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
        if (q == "tokens") d.mtp_tokens = read_int(w, IntKind::non_negative, file, qk);
        else d.mtp_acceptance = read_number(w, NumKind::unit_interval, file, qk);
      });
    else if (k == "training")
      each(v, kTraining, file, key, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
        if (q == "recompute") d.training.recompute = static_cast<Recompute>(read_choice(w, kRecompute, file, qk));
        else if (q == "zero_shards") d.training.zero_shards = read_int(w, IntKind::positive, file, qk);
        else if (q == "pipeline_stages") d.training.pipeline_stages = read_int(w, IntKind::positive, file, qk);
        else d.training.micro_batches = read_int(w, IntKind::positive, file, qk);
      });
  });
}

void check_layout(const DeploymentSpec& d, const ScenarioSpec& s, const std::string& file) {
  const int D = s.cluster.devices;
  const std::string devs = std::to_string(D);
  if (d.attention.dp * d.attention.tp != D)
    throw Error(file, "deployment.attention", std::to_string(d.attention.dp) + " x " + std::to_string(d.attention.tp),
                "dp x tp must equal cluster.devices (" + devs + ")");
  if (d.experts.dp * d.experts.tp != D)
    throw Error(file, "deployment.experts", std::to_string(d.experts.dp) + " x " + std::to_string(d.experts.tp),
                "ep x tp must equal cluster.devices (" + devs + ")");
  if (D % d.shared_tp != 0)
    throw Error(file, "deployment.shared_experts.tp", std::to_string(d.shared_tp), "must divide cluster.devices (" + devs + ")");
  if (d.attention.tp > s.cluster.devices_per_node)
    throw Error(file, "deployment.attention.tp", std::to_string(d.attention.tp),
                "tensor parallelism beyond one node (" + std::to_string(s.cluster.devices_per_node) + " devices) is not modelled");
  const HardwareSpec& h = s.hardware;
  const auto needs = [&](DType t, const char* key) {
    if (t == DType::fp8 && h.flops_fp8 <= 0 && (std::string(key) == "weights" || std::string(key) == "activations"))
      throw Error(file, std::string("deployment.dtypes.") + key, "fp8", "hardware '" + h.name + "' has no FP8 support");
    if (t == DType::int8 && h.flops_int8 <= 0 && std::string(key) == "activations")
      throw Error(file, std::string("deployment.dtypes.") + key, "int8", "hardware '" + h.name + "' has no INT8 support");
  };
  needs(d.weights, "weights");
  needs(d.activations, "activations");
  if (d.weights != DType::bf16 && d.activations != DType::bf16 && d.weights != d.activations)
    throw Error(file, "deployment.dtypes.activations", to_string(d.activations),
                std::string("8-bit GEMMs need weights and activations of one kind (weights are ") + to_string(d.weights) + ")");
  const TrainingSpec& t = d.training;
  if (d.phase != Phase::training && (t.zero_shards != 1 || t.recompute != Recompute::none || t.pipeline_stages != 1 || t.micro_batches != 1))
    throw Error(file, "deployment.training", to_string(d.phase), "applies to phase: training only");
  if (t.zero_shards > d.attention.dp)
    throw Error(file, "deployment.training.zero_shards", std::to_string(t.zero_shards),
                "cannot exceed the data-parallel degree deployment.attention.dp (" + std::to_string(d.attention.dp) + ")");
  if (t.pipeline_stages > s.model.num_layers)
    throw Error(file, "deployment.training.pipeline_stages", std::to_string(t.pipeline_stages),
                "exceeds the model's " + std::to_string(s.model.num_layers) + " blocks");
}

}  // namespace

DeploymentSpec deployment_from_node(const YAML::Node& n, const ScenarioSpec& s, const std::string& file) {
  DeploymentSpec d;
  d.attention.dp = s.cluster.devices;
  d.experts.dp = s.cluster.devices;
  if (!n) return d;
  if (s.hardware.name.empty())
    throw Error(file, "cluster.hardware", "", "a deployment needs a hardware preset (cluster.hardware: h800, ...)");
  d.enabled = true;
  int a2a = 0;  // auto
  // Expert dp defaults to devices / expert tp, so an explicit tp alone is enough.
  const YAML::Node ex = n["experts"];
  if (ex && ex.IsMap() && ex["tp"] && !ex["ep"]) {
    const int etp = read_int(ex["tp"], IntKind::positive, file, "deployment.experts.tp");
    d.experts.dp = s.cluster.devices / etp;
  }
  const YAML::Node at = n["attention"];
  if (at && at.IsMap() && at["tp"] && !at["dp"]) {
    const int tp = read_int(at["tp"], IntKind::positive, file, "deployment.attention.tp");
    d.attention.dp = s.cluster.devices / tp;
  }
  read_sections(n, d, file, a2a);
  d.all_to_all = a2a == 0 ? (d.phase == Phase::decode ? AllToAll::low_latency : AllToAll::normal)
                          : (a2a == 1 ? AllToAll::normal : AllToAll::low_latency);
  check_layout(d, s, file);
  return d;
}

std::vector<PublishedFigure> published_from_node(const YAML::Node& n, const std::string& file) {
  std::vector<PublishedFigure> out;
  if (!n) return out;
  if (!n.IsSequence()) throw Error(file, "published", node_text(n), "expected a list of {metric, value, tolerance, source}");
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string key = index_key("published", i);
    PublishedFigure f;
    each(n[i], kPublished, file, key, [&](const std::string& k, const YAML::Node& v, const std::string& kk) {
      if (k == "metric") f.metric = read_string(v, file, kk);
      else if (k == "value") f.value = read_number(v, NumKind::positive, file, kk);
      else if (k == "tolerance") f.tolerance = read_number(v, NumKind::positive, file, kk);
      else if (k == "ratio_of") f.ratio_of = read_string(v, file, kk);
      else if (k == "role") f.role = std::string(kRole[read_choice(v, kRole, file, kk)]);
      else if (k == "known_miss") {
        f.known_miss = true;
        each(v, kMiss, file, kk, [&](const std::string& q, const YAML::Node& w, const std::string& qk) {
          if (q == "error") f.miss_error = read_number(w, NumKind::any, file, qk);
          else f.miss_reason = read_string(w, file, qk);
        });
        if (f.miss_reason.empty()) throw Error(file, child_key(kk, "reason"), "", "missing required key");
      }
      else f.source = read_string(v, file, kk);
    });
    if (f.metric.empty()) throw Error(file, child_key(key, "metric"), "", "missing required key");
    if (f.value <= 0) throw Error(file, child_key(key, "value"), "", "missing required key");
    out.push_back(f);
  }
  return out;
}

}  // namespace moesim::config
