// The throughput part of every reporter (present when a scenario has a deployment), and the JSON echo of
// the resolved hardware and deployment.
#pragma once

#include "report/labels.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace moesim {

// Named scalar figures of a throughput result, in report order: (key, value). Keys are the JSON keys
// (documented in configs/README.md) and the CSV column names; validation metrics use them too. The same
// keys for every phase; the last ones repeat tokens_per_s_per_device and tokens_per_s_per_node under the
// phase's name (decode_, prefill_, training_; phase_alias true).
std::vector<std::pair<std::string, double>> throughput_figures(const ThroughputResult& t, Phase phase);
inline bool phase_alias(const std::string& key) {
  for (const char* p : {"decode_", "prefill_", "training_"})
    if (key.rfind(p, 0) == 0 && key.find("tokens_per_s_per_") != std::string::npos) return true;
  return false;
}

nlohmann::ordered_json throughput_json(const ThroughputResult& t, Phase phase);
void write_throughput_table(const std::vector<SetupRef>& refs, std::ostream& os);

// The resolved hardware: nominal figures, every calibrated value with its source, the price; and the
// resolved deployment (every key, defaults filled).
nlohmann::ordered_json hardware_json(const HardwareSpec& h);
nlohmann::ordered_json deployment_json(const DeploymentSpec& d);

// `moesim list hardware --detail`: one preset's nominal figures, calibrated values (with what they make
// achievable and their sources) and price, for people.
void write_hardware_detail(const HardwareSpec& h, std::ostream& os);

}  // namespace moesim
