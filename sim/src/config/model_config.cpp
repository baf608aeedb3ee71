// Model presets and inline models: YAML -> ModelSpec, with every value checked.
#include "config/model_config.hpp"

#include "config/hf_config.hpp"
#include "config/schema.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace moesim::config {
namespace {

// Where each model key was written, so that a check made after merging a preset with inline
// overrides blames the right file and key.
struct Loc {
  std::string file, key;
};
using Origins = std::map<std::string, Loc>;

struct IntField {
  std::string_view key;
  int ModelSpec::*member;
  IntKind kind;
};
constexpr std::array<IntField, 20> kIntFields = {{
    {"num_layers", &ModelSpec::num_layers, IntKind::positive},
    {"first_dense_layers", &ModelSpec::first_dense_layers, IntKind::non_negative},
    {"hidden", &ModelSpec::hidden, IntKind::non_negative},
    {"vocab", &ModelSpec::vocab, IntKind::non_negative},
    {"num_heads", &ModelSpec::num_heads, IntKind::non_negative},
    {"num_kv_heads", &ModelSpec::num_kv_heads, IntKind::non_negative},
    {"head_dim", &ModelSpec::head_dim, IntKind::non_negative},
    {"q_lora_rank", &ModelSpec::q_lora_rank, IntKind::non_negative},
    {"kv_lora_rank", &ModelSpec::kv_lora_rank, IntKind::non_negative},
    {"qk_nope_head_dim", &ModelSpec::qk_nope_head_dim, IntKind::non_negative},
    {"qk_rope_head_dim", &ModelSpec::qk_rope_head_dim, IntKind::non_negative},
    {"v_head_dim", &ModelSpec::v_head_dim, IntKind::non_negative},
    {"dense_intermediate", &ModelSpec::dense_intermediate, IntKind::non_negative},
    {"num_experts", &ModelSpec::num_experts, IntKind::non_negative},
    {"top_k", &ModelSpec::top_k, IntKind::non_negative},
    {"num_groups", &ModelSpec::num_groups, IntKind::positive},
    {"topk_group", &ModelSpec::topk_group, IntKind::non_negative},
    {"num_shared_experts", &ModelSpec::num_shared_experts, IntKind::non_negative},
    {"shared_intermediate", &ModelSpec::shared_intermediate, IntKind::non_negative},
    {"moe_intermediate", &ModelSpec::moe_intermediate, IntKind::non_negative},
}};

// Applies one model key; returns false if `k` is not a model key.
bool apply_model_key(const std::string& k, const YAML::Node& v, const std::string& file, const std::string& key,
                     ModelSpec& m) {
  for (const auto& f : kIntFields) {
    if (f.key == k) {
      m.*f.member = read_int(v, f.kind, file, key);
      return true;
    }
  }
  if (k == "name") m.name = read_string(v, file, key);
  else if (k == "description") m.description = read_string(v, file, key);
  else if (k == "source") m.source = read_string(v, file, key);
  else if (k == "router") m.router = read_string(v, file, key);
  else if (k == "attention") m.attention = static_cast<AttentionKind>(read_choice(v, schema::kAttention, file, key));
  else if (k == "scoring") m.scoring = static_cast<ScoringFunc>(read_choice(v, schema::kScoring, file, key));
  else if (k == "group_score") m.group_score = static_cast<GroupScore>(read_choice(v, schema::kGroupScore, file, key));
  else if (k == "norm_topk_prob") m.norm_topk_prob = read_bool(v, file, key);
  else if (k == "routed_scaling_factor") m.routed_scaling_factor = read_number(v, NumKind::positive, file, key);
  else return false;
  return true;
}

// Applies every key of `map` (a mapping at `prefix` in `file`) except `preset` and `hf_config`.
void apply_model_keys(const YAML::Node& map, const std::string& file, const std::string& prefix, ModelSpec& m,
                      Origins& origins) {
  for (const auto& kv : map) {
    const std::string k = kv.first.Scalar();
    if (k == "preset" || k == "hf_config") continue;
    const std::string key = child_key(prefix, k);
    MOESIM_CHECK(apply_model_key(k, kv.second, file, key, m), "model key '" + k + "' passed check_keys");
    origins[k] = Loc{file, key};
  }
}

struct ModelChecker {
  const ModelSpec& m;
  const Origins& origins;
  Loc fallback;  // file and key prefix for keys nobody wrote

  Loc loc(const std::string& k) const {
    auto it = origins.find(k);
    return it != origins.end() ? it->second : Loc{fallback.file, child_key(fallback.key, k)};
  }
  [[noreturn]] void fail(const std::string& k, int value, const std::string& problem) const {
    const Loc l = loc(k);
    throw Error(l.file, l.key, std::to_string(value), problem);
  }
  // Keys a and b break a relation. Blames a (problem_a), unless the scenario itself wrote b over a preset
  // or config.json that wrote a (say --set model.num_experts=60 on Pangu's preset): then the user's edit b
  // (problem_b, which names where a's value came from), since that is what to change.
  [[noreturn]] void fail_pair(const std::string& a, int va, const std::string& problem_a, const std::string& b, int vb,
                              const std::string& problem_b) const {
    const Loc la = loc(a), lb = loc(b);
    const bool b_is_the_edit = origins.count(b) && lb.file == fallback.file && (!origins.count(a) || la.file != fallback.file);
    if (!b_is_the_edit) fail(a, va, problem_a);
    const std::string where = origins.count(a) ? ", from " + la.file : ", not written in the scenario";
    fail(b, vb, problem_b + " (" + a + " " + std::to_string(va) + where + ")");
  }
};

void validate_model(const ModelSpec& m, const Origins& origins, const std::string& file, const std::string& prefix) {
  const ModelChecker c{m, origins, Loc{file, prefix}};
  if (m.num_layers == 0) {
    const Loc l = c.loc("num_layers");
    throw Error(l.file, l.key, "", "missing required key (transformer blocks, a positive integer)");
  }
  if (m.first_dense_layers > m.num_layers)
    c.fail_pair("first_dense_layers", m.first_dense_layers, "exceeds num_layers (" + std::to_string(m.num_layers) + ")",
                "num_layers", m.num_layers, "is below first_dense_layers");
  if (!m.is_moe()) return;
  const std::string experts = std::to_string(m.num_experts);
  if (m.top_k == 0) c.fail("top_k", 0, "expected a positive integer for an MoE model (num_experts " + experts + ")");
  if (m.top_k > m.num_experts)
    c.fail_pair("top_k", m.top_k, "exceeds num_experts (" + experts + ")", "num_experts", m.num_experts, "is below top_k");
  if (m.num_experts % m.num_groups != 0)
    c.fail_pair("num_groups", m.num_groups, "must divide num_experts (" + experts + ")", "num_experts", m.num_experts,
                "must be a multiple of num_groups");
  if (m.topk_group > m.num_groups)
    c.fail_pair("topk_group", m.topk_group, "exceeds num_groups (" + std::to_string(m.num_groups) + ")", "num_groups",
                m.num_groups, "is below topk_group");
}

bool safe_preset_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

std::vector<std::string> dirs_or_default(const std::vector<std::string>& dirs) {
  return dirs.empty() ? default_preset_dirs() : dirs;
}

// Reads a preset file's keys into `m`; the preset's own errors name the preset file.
ModelSpec read_preset(const std::string& name, const std::vector<std::string>& dirs, const std::string& file,
                      const std::string& key, Origins& origins) {
  const std::string path = find_preset_file("models", name, dirs);
  if (path.empty()) {
    std::vector<std::string> names;
    for (const auto& p : list_presets("models", dirs)) names.push_back(p.name);
    throw Error(file, key, name, "no such model preset; available: " + join(names));
  }
  const YAML::Node root = parse_yaml(read_text_file(path), path);
  require_map(root, path, "");
  check_keys(root, schema::kModel, path, "");
  ModelSpec m;
  apply_model_keys(root, path, "", m, origins);
  if (m.name.empty()) m.name = name;
  if (m.name != name) throw Error(path, "name", m.name, "must match the preset's file name '" + name + "'");
  return m;
}

}  // namespace

std::string find_preset_file(const std::string& kind, const std::string& name, const std::vector<std::string>& dirs) {
  if (!safe_preset_name(name)) return "";
  for (const auto& d : dirs_or_default(dirs)) {
    const fs::path p = fs::path(d) / kind / (name + ".yaml");
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

ModelSpec model_from_node(const YAML::Node& n, const std::string& file, const std::string& key,
                          const std::vector<std::string>& dirs) {
  if (n.IsScalar()) return load_model_preset(n.Scalar(), dirs, file, key);
  if (!n.IsMap()) throw Error(file, key, node_text(n), "expected a preset name or a mapping of model keys");
  check_keys(n, schema::kInlineModel, file, key);
  Origins origins;
  ModelSpec m;
  if (n["hf_config"]) {
    // A HuggingFace config.json, relative to the scenario file's directory; the other keys override it.
    const std::string hf_key = child_key(key, "hf_config");
    if (n["preset"]) throw Error(file, hf_key, "", "cannot be combined with preset: the model starts from one of them");
    m = model_from_hf_config(path_relative_to(file, read_string(n["hf_config"], file, hf_key)));
  } else if (n["preset"]) {
    const std::string preset_key = child_key(key, "preset");
    m = read_preset(read_string(n["preset"], file, preset_key), dirs_or_default(dirs), file, preset_key, origins);
  } else {
    m.name = "custom";
  }
  apply_model_keys(n, file, key, m, origins);
  validate_model(m, origins, file, key);
  return m;
}

}  // namespace moesim::config

namespace moesim {

using config::find_preset_file;

ModelSpec load_model_preset(const std::string& name, const std::vector<std::string>& dirs, const std::string& file,
                            const std::string& key) {
  config::Origins origins;
  const auto d = config::dirs_or_default(dirs);
  ModelSpec m = config::read_preset(name, d, file, key, origins);
  config::validate_model(m, origins, find_preset_file("models", name, d), "");
  return m;
}

std::vector<std::string> default_preset_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("MOESIM_CONFIG_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
#ifdef MOESIM_SOURCE_CONFIG_DIR
  dirs.emplace_back(MOESIM_SOURCE_CONFIG_DIR);
#endif
  dirs.emplace_back("configs");
  std::vector<std::string> unique;
  for (auto& d : dirs)
    if (std::find(unique.begin(), unique.end(), d) == unique.end()) unique.push_back(d);
  return unique;
}

std::vector<PresetInfo> list_presets(const std::string& kind, const std::vector<std::string>& dirs) {
  using config::parse_yaml;
  using config::read_text_file;
  std::map<std::string, PresetInfo> found;  // the first directory that has a name wins
  for (const auto& d : config::dirs_or_default(dirs)) {
    std::error_code ec;
    const fs::path dir = fs::path(d) / kind;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      const YAML::Node root = parse_yaml(read_text_file(p.string()), p.string());
      PresetInfo info{p.stem().string(), "", p.string()};
      if (root.IsMap() && root["name"] && root["name"].IsScalar()) info.name = root["name"].Scalar();
      if (root.IsMap() && root["description"] && root["description"].IsScalar())
        info.description = root["description"].Scalar();
      found.emplace(info.name, info);
    }
  }
  std::vector<PresetInfo> out;
  for (auto& [_, info] : found) out.push_back(std::move(info));
  return out;
}

}  // namespace moesim
