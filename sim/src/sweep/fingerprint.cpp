// The sweep fingerprint: what an output file was written by (scenario bytes, grid, overrides).
#include "moesim/sweep.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace moesim {

uint64_t fnv1a64(const std::string& bytes) {
  // FNV-1a, 64-bit: offset basis 14695981039346656037, prime 1099511628211 (Fowler, Noll, Vo).
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

nlohmann::ordered_json grid_json(const std::vector<GridAxis>& grid) {
  nlohmann::ordered_json g = nlohmann::ordered_json::array();
  for (const auto& a : grid) g.push_back({{"keys", a.keys}, {"values", a.values}});
  return g;
}

}  // namespace

std::string fingerprint_json(const SweepFingerprint& f) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.scenario_fnv1a64));
  nlohmann::ordered_json j;
  j["moesim_sweep"] = 1;
  j["scenario"] = f.scenario;
  j["scenario_fnv1a64"] = hex;
  j["grid"] = grid_json(f.grid);
  j["set"] = f.overrides;
  return j.dump();
}

}  // namespace moesim
