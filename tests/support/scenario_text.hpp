// tests/support/scenario_text.hpp: scenario YAML written in a test, parsed with the shipped presets
// (configs/), and the exact error text it gives; shared by test_config_errors.cpp and test_config_load.cpp.
#pragma once
#include "config/schema.hpp"
#include "config/yaml_util.hpp"
#include "moesim/config.hpp"

#include <string>
#include <utility>
#include <vector>

namespace moesim::test {

using moesim::Error;
using moesim::LoadOptions;
using moesim::ScenarioSpec;

inline const std::string kConfigs = std::string(MOESIM_SOURCE_DIR) + "/configs";

inline LoadOptions options(std::vector<std::string> overrides = {}) {
  LoadOptions opt;
  opt.overrides = std::move(overrides);
  opt.preset_dirs = {kConfigs};
  return opt;
}

inline ScenarioSpec parse(const std::string& text, std::vector<std::string> overrides = {}) {
  return moesim::parse_scenario(text, "s.yaml", options(std::move(overrides)), moesim::builtin_registries());
}

// The exact Error::what() that parsing `text` (with overrides) throws, or "no error".
inline std::string error_of(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    parse(text, std::move(overrides));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Two setups on Pangu Pro MoE; tests splice one bad line into it.
inline std::string pangu(const std::string& setup1_router = "{name: moge, groups: 8}", const std::string& extra = "") {
  return "model: pangu-pro-moe\n"
         "cluster: {devices: 8, devices_per_node: 8}\n"
         "run: {steps: 10, tokens_per_step: 16}\n" +
         extra +
         "setups:\n"
         "  - name: top8\n"
         "    router: {name: topk, k: 8}\n"
         "  - name: moge\n"
         "    router: " + setup1_router + "\n"
         "    placement: {name: by_group}\n";
}

// The router keys, in schema order (config/schema.hpp).
inline const std::string kRouterKeys = moesim::config::join(moesim::config::schema::kRouter);
// The top-level keys, in schema order (config/schema.hpp).
inline const std::string kTopKeys = moesim::config::join(moesim::config::schema::kTop);

// A list of `n` numbers: "[v0, v1, ...]" with v_e = 0.01 * (e % 5) - 0.02.
inline std::string bias_list(int n) {
  std::string out = "[";
  for (int e = 0; e < n; ++e) out += (e ? ", " : "") + std::to_string(0.01 * (e % 5) - 0.02);
  return out + "]";
}

}  // namespace moesim::test
