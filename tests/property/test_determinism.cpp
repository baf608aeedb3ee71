// Determinism over EVERY registered router and placement: a whole simulated run (workload with
// per-sequence correlation, router, capacity, placement, in-simulation dynamics where the policy has
// them, metrics) rendered as the JSON report gives the same bytes with 1 and 2 threads, and again on a
// second run. A router or placement registered later fails here until it gets a valid setup below.
#include "moesim/config.hpp"
#include "moesim/registries.hpp"
#include "moesim/report.hpp"
#include "moesim/simulator.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace moesim {
namespace {

const std::vector<std::string> kConfigs = {std::string(MOESIM_SOURCE_DIR) + "/configs"};

// The router part of a setup for Pangu Pro MoE (64 experts, 8 groups, top-8); "" for an unknown name.
std::string router_yaml(const std::string& name) {
  if (name == "topk" || name == "moge") return "{name: " + name + ", bias_update_speed: 0.01}";
  if (name == "group_limited") return "{name: group_limited, topk_group: 4, scoring: sigmoid, bias_update_speed: 0.01}";
  if (name == "expert_choice") return "{name: expert_choice, capacity_factor: 1.25}";
  if (name == "hash") return "{name: hash}";
  return "";
}

// The placement part for 8 expert-parallel devices, 4 per node; "" for an unknown name.
std::string placement_yaml(const std::string& name) {
  if (name == "contiguous" || name == "round_robin" || name == "by_group") return "{name: " + name + "}";
  if (name == "explicit") {  // expert e on device (3e + 1) mod 8
    std::string map;
    for (int e = 0; e < 64; ++e) map += (e ? ", " : "") + std::to_string((3 * e + 1) % 8);
    return "{name: explicit, device_of_expert: [" + map + "]}";
  }
  if (name == "eplb") return "{name: eplb, replicas: 72, warmup_steps: 1, rebalance_every: 1}";
  return "";
}

// layers 1: the batch is split across threads in 1024-token chunks; layers 3: one layer per thread.
std::string run_json(const std::string& router, const std::string& placement, int layers, int threads) {
  const std::string yaml =
      "model: pangu-pro-moe\n"
      "cluster: {devices: 8, devices_per_node: 4}\n"
      "run: {steps: 3, tokens_per_step: 2100, tokens_per_sequence: 4, layers: " + std::to_string(layers) +
      ", seed: 5, threads: " + std::to_string(threads) +
      "}\n"
      "setups:\n"
      "  - name: s\n"
      "    router: " + router_yaml(router) + "\n"
      "    placement: " + placement_yaml(placement) + "\n"
      "    capacity: {factor: 1.5}\n"
      "    workload: {name: synthetic, popularity: zipf, zipf_exponent: 1.1, sequence_correlation: 0.5, "
      "layer_sigma: 0.3, drift: 0.05}\n";
  LoadOptions lo;
  lo.preset_dirs = kConfigs;
  const ScenarioSpec spec = parse_scenario(yaml, "determinism.yaml", lo, builtin_registries());
  ScenarioResult result = simulate(spec, builtin_registries());
  result.scenario.run.threads = 0;  // the echoed setting, not a result: the bytes compared are the results
  ReporterRegistry reporters("format");
  register_builtin_reporters(reporters);
  std::ostringstream os;
  reporters.get("json", "", "--format").factory()->write({result}, {}, os);
  return os.str();
}

TEST(Determinism, EveryRouterAndPlacementGivesTheSameBytesWhateverTheThreads) {
  const Registries& reg = builtin_registries();
  for (const auto* r : reg.routers.entries()) {
    ASSERT_NE(router_yaml(r->name), "") << "no setup for router '" << r->name << "': add one to router_yaml";
    for (const auto* p : reg.placements.entries()) {
      ASSERT_NE(placement_yaml(p->name), "") << "no setup for placement '" << p->name << "': add one";
      for (int layers : {1, 3}) {
        SCOPED_TRACE(r->name + " on " + p->name + ", layers " + std::to_string(layers));
        const std::string one = run_json(r->name, p->name, layers, 1);
        EXPECT_EQ(one, run_json(r->name, p->name, layers, 2));
        EXPECT_EQ(one, run_json(r->name, p->name, layers, 1)) << "a second run must repeat the first";
        EXPECT_NE(one.find("\"results\""), std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace moesim
