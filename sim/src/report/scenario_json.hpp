// The fully resolved scenario as JSON (what actually ran, after presets, defaults and --set).
#pragma once

#include "moesim/scenario.hpp"

#include <nlohmann/json.hpp>

namespace moesim {

nlohmann::ordered_json to_json(const ModelSpec& m);
nlohmann::ordered_json to_json(const SetupSpec& s);
nlohmann::ordered_json to_json(const ScenarioSpec& s);

}  // namespace moesim
