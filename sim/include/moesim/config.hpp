// moesim/config.hpp: the only code that parses text. YAML scenario files and presets -> ScenarioSpec.
#pragma once

#include "moesim/registries.hpp"
#include "moesim/scenario.hpp"

#include <string>
#include <vector>

namespace moesim {

struct LoadOptions {
  std::vector<std::string> overrides;    // "key.path=value" (--set); applied before validation
  std::vector<std::string> preset_dirs;  // searched for models/<name>.yaml; empty = default_preset_dirs()
  std::string model_file;                // a HuggingFace config.json; when set it replaces the scenario's
                                         // model (the file's `model` key is then ignored): --model
};

// $MOESIM_CONFIG_DIR if set, then the source tree's configs/ (compiled in), then ./configs.
std::vector<std::string> default_preset_dirs();

// Parses, applies overrides, fills defaults from the model, validates against the registries.
// Every problem throws Error naming the file, the key path and the bad value.
ScenarioSpec load_scenario(const std::string& path, const LoadOptions& opt, const Registries& reg);
ScenarioSpec parse_scenario(const std::string& yaml_text, const std::string& file_label,
                            const LoadOptions& opt, const Registries& reg);

// A model preset by name (configs/models/<name>.yaml).
ModelSpec load_model_preset(const std::string& name, const std::vector<std::string>& dirs,
                            const std::string& file = "", const std::string& key = "model");

// A model from a HuggingFace config.json: DeepSeek-V2/V3, Qwen2-MoE, Qwen3-MoE, Mixtral, Pangu Pro MoE,
// Ling (BailingMoe) and dense Llama/Qwen2/Qwen3 (configs/README.md, "Model keys", lists the keys read).
// Errors name the file and the config.json key: an unknown architecture, a missing key, a wrong type.
ModelSpec model_from_hf_config(const std::string& path);

// A hardware preset by name (configs/hardware/<name>.yaml).
HardwareSpec load_hardware_preset(const std::string& name, const std::vector<std::string>& dirs,
                                  const std::string& file = "", const std::string& key = "hardware");

struct PresetInfo {
  std::string name, description, path;
};
// Presets of one kind ("models", "hardware", "scenarios") found in dirs, sorted by name.
std::vector<PresetInfo> list_presets(const std::string& kind, const std::vector<std::string>& dirs);

}  // namespace moesim
