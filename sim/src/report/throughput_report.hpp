// The throughput part of every reporter (present when a scenario has a deployment).
#pragma once

#include "report/labels.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace moesim {

// Named scalar figures of a throughput result, in report order: (key, value). Keys are the JSON keys
// (documented in configs/README.md) and the CSV column names; validation metrics use them too. The last
// one repeats tokens_per_s_per_device as decode_/prefill_tokens_per_s_per_device (phase_alias true).
std::vector<std::pair<std::string, double>> throughput_figures(const ThroughputResult& t, Phase phase);
inline bool phase_alias(const std::string& key) { return key.find("_tokens_per_s_per_device") != std::string::npos && key != "tokens_per_s_per_device"; }

nlohmann::ordered_json throughput_json(const ThroughputResult& t, Phase phase);
void write_throughput_table(const std::vector<SetupRef>& refs, std::ostream& os);

}  // namespace moesim
