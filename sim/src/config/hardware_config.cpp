// Hardware presets: YAML -> HardwareSpec. Every key is required in a preset file, so that a preset
// always shows its nominal figures, its calibrated efficiencies and their sources.
#include "config/hardware_config.hpp"

#include "config/model_config.hpp"
#include "config/schema.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <array>

namespace moesim::config {

namespace {

using K = std::string_view;
// The key lists live in schema.hpp, shared with the --set path checker.
using schema::kHardware;
constexpr const auto& kNominal = schema::kHardwareNominal;
constexpr const auto& kLink = schema::kHardwareLink;
constexpr const auto& kCalibrated = schema::kHardwareCalibrated;
constexpr const auto& kEntry = schema::kHardwareEntry;
constexpr const auto& kPrice = schema::kHardwarePrice;

YAML::Node required(const YAML::Node& map, const std::string& k, const std::string& file, const std::string& key) {
  const YAML::Node v = map[k];
  if (!v) throw Error(file, child_key(key, k), "", "missing required key");
  return v;
}

// Overlays `over` on `base` key by key, recursing into mappings.
YAML::Node merge(const YAML::Node& base, const YAML::Node& over) {
  if (!base || !base.IsMap() || !over.IsMap()) return YAML::Clone(over);
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : over) {
    const std::string k = kv.first.as<std::string>();
    out[k] = merge(base[k], kv.second);
  }
  return out;
}

Link read_link(const YAML::Node& n, const std::string& file, const std::string& key) {
  require_map(n, file, key);
  check_keys(n, kLink, file, key);
  Link l;
  l.name = read_string(required(n, "name", file, key), file, child_key(key, "name"));
  l.bandwidth_bytes_per_s = read_number(required(n, "bandwidth", file, key), NumKind::non_negative, file, child_key(key, "bandwidth"));
  l.latency_s = read_number(required(n, "latency", file, key), NumKind::non_negative, file, child_key(key, "latency"));
  return l;
}

Calibrated read_calibrated(const YAML::Node& n, bool fraction, const std::string& file, const std::string& key) {
  require_map(n, file, key);
  check_keys(n, kEntry, file, key);
  Calibrated c;
  const std::string vk = child_key(key, "value");
  c.value = read_number(required(n, "value", file, key), NumKind::non_negative, file, vk);
  if (fraction && (c.value <= 0.0 || c.value > 1.0))
    throw Error(file, vk, node_text(n["value"]), "expected a fraction of nominal in (0, 1]");
  c.source = read_string(required(n, "source", file, key), file, child_key(key, "source"));
  return c;
}

void read_nominal(const YAML::Node& n, HardwareSpec& h, const std::string& file, const std::string& key) {
  require_map(n, file, key);
  check_keys(n, kNominal, file, key);
  const auto num = [&](const char* k, NumKind kind) { return read_number(required(n, k, file, key), kind, file, child_key(key, k)); };
  h.flops_bf16 = num("flops_bf16", NumKind::positive);
  h.flops_fp8 = num("flops_fp8", NumKind::non_negative);
  h.flops_int8 = num("flops_int8", NumKind::non_negative);
  h.memory_bytes = num("memory_bytes", NumKind::positive);
  h.memory_bandwidth_bytes_per_s = num("memory_bandwidth", NumKind::positive);
  h.devices_per_node = read_int(required(n, "devices_per_node", file, key), IntKind::positive, file, child_key(key, "devices_per_node"));
  h.scale_up = read_link(required(n, "scale_up", file, key), file, child_key(key, "scale_up"));
  h.scale_out = read_link(required(n, "scale_out", file, key), file, child_key(key, "scale_out"));
}

void read_efficiencies(const YAML::Node& n, Efficiencies& e, const std::string& file, const std::string& key) {
  require_map(n, file, key);
  check_keys(n, kCalibrated, file, key);
  for (const EfficiencyField& f : kEfficiencyFields) {
    const std::string k(f.key);
    e.*f.member = read_calibrated(required(n, k, file, key), f.fraction, file, child_key(key, k));
  }
  if (e.comm_compute_share.value >= 1.0)
    throw Error(file, child_key(child_key(key, "comm_compute_share"), "value"), node_text(n["comm_compute_share"]["value"]),
                "expected a fraction of the compute units in [0, 1)");
}

HardwareSpec convert(const YAML::Node& n, const std::string& file, const std::string& key) {
  require_map(n, file, key);
  check_keys(n, kHardware, file, key);
  HardwareSpec h;
  h.name = read_string(required(n, "name", file, key), file, child_key(key, "name"));
  h.description = read_string(required(n, "description", file, key), file, child_key(key, "description"));
  h.source = read_string(required(n, "source", file, key), file, child_key(key, "source"));
  read_nominal(required(n, "nominal", file, key), h, file, child_key(key, "nominal"));
  read_efficiencies(required(n, "calibrated", file, key), h.eff, file, child_key(key, "calibrated"));
  const std::string pk = child_key(key, "price");
  const YAML::Node p = required(n, "price", file, key);
  require_map(p, file, pk);
  check_keys(p, kPrice, file, pk);
  h.usd_per_hour = read_number(required(p, "usd_per_hour", file, pk), NumKind::non_negative, file, child_key(pk, "usd_per_hour"));
  h.price_source = read_string(required(p, "source", file, pk), file, child_key(pk, "source"));
  h.price_date = read_string(required(p, "date", file, pk), file, child_key(pk, "date"));
  return h;
}

YAML::Node preset_node(const std::string& name, const std::vector<std::string>& dirs, const std::string& file,
                       const std::string& key) {
  const std::vector<std::string> d = dirs.empty() ? default_preset_dirs() : dirs;
  const std::string path = find_preset_file("hardware", name, d);
  if (path.empty()) {
    std::vector<std::string> names;
    for (const auto& p : list_presets("hardware", d)) names.push_back(p.name);
    throw Error(file, key, name, "no such hardware preset; available: " + join(names));
  }
  return parse_yaml(read_text_file(path), path);
}

}  // namespace

HardwareSpec hardware_from_node(const YAML::Node& n, const std::string& file, const std::string& key,
                                const std::vector<std::string>& dirs) {
  if (n.IsScalar()) {
    const std::string name = n.Scalar();
    const std::vector<std::string> d = dirs.empty() ? default_preset_dirs() : dirs;
    const YAML::Node preset = preset_node(name, d, file, key);
    const std::string path = find_preset_file("hardware", name, d);
    HardwareSpec h = convert(preset, path, "");
    if (h.name != name) throw Error(path, "name", h.name, "must match the preset's file name '" + name + "'");
    return h;
  }
  if (!n.IsMap()) throw Error(file, key, node_text(n), "expected a hardware preset name or a mapping");
  if (!n["preset"]) return convert(n, file, key);
  const std::string pk = child_key(key, "preset");
  const YAML::Node base = preset_node(read_string(n["preset"], file, pk), dirs, file, pk);
  YAML::Node over = YAML::Clone(n);
  over.remove("preset");
  return convert(merge(base, over), file, key);
}

}  // namespace moesim::config

namespace moesim {

HardwareSpec load_hardware_preset(const std::string& name, const std::vector<std::string>& dirs, const std::string& file,
                                  const std::string& key) {
  return config::hardware_from_node(YAML::Node(name), file, key, dirs);
}

}  // namespace moesim
