// moesim place: DeepSeek EPLB (deepseek-ai/EPLB rebalance_experts) on a weights file, so EPLB users can
// run it without Python. Prints {"phy2log": [layers][replicas], "log2phy": [layers][experts][max_replicas],
// "logcnt": [layers][experts]} as JSON.
#include "place.hpp"

#include "commands.hpp"
#include "moesim/error.hpp"

// The EPLB core and the W.json reader are private to the library (sim/src); the CLI is their second caller.
#include "config/placement_weights.hpp"
#include "placement/eplb.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace moesim::cli {
namespace {

using nlohmann::json;

// One key per line, each value on one line: readable, and any JSON reader takes it.
std::string to_text(const eplb::Rebalance& r) {
  std::ostringstream s;
  s << "{\n  \"phy2log\": " << json(r.phy2log).dump() << ",\n  \"log2phy\": " << json(r.log2phy).dump()
    << ",\n  \"logcnt\": " << json(r.logcnt).dump() << "\n}\n";
  return s.str();
}

}  // namespace

CLI::App* add_place_command(CLI::App& app, PlaceOptions& opt) {
  auto* cmd = app.add_subcommand(
      "place", "compute an expert placement from per-expert loads (DeepSeek EPLB) and print phy2log, log2phy "
               "and logcnt as JSON");
  cmd->add_option("--policy", opt.policy, "placement policy (eplb: hierarchical when groups divide by nodes, else global)")
      ->check(CLI::IsMember({"eplb"}));
  cmd->add_option("--weights,-w", opt.weights, "JSON file {\"weight\": [[...], ...]}: estimated load, layers x logical experts")
      ->required();
  cmd->add_option("--replicas,-r", opt.replicas, "physical expert slots in total, a multiple of --devices")->required();
  cmd->add_option("--groups,-g", opt.groups, "expert groups, dividing the logical experts (default 1)");
  cmd->add_option("--nodes,-n", opt.nodes, "server nodes, dividing --devices (default 1)");
  cmd->add_option("--devices,-d", opt.devices, "GPUs (devices) in total; slot p sits on device p / (replicas / devices)")
      ->required();
  cmd->add_option("--output,-o", opt.output, "write the JSON to FILE (atomically) instead of standard output");
  return cmd;
}

int cmd_place(const PlaceOptions& opt) {
  // W.json: {"weight": [[...], ...]}, layers x logical experts. The EPLB core checks the values (finite,
  // >= 0, rows of equal length) with the same file and key names.
  const eplb::WeightMatrix weight = config::read_weight_matrix(opt.weights);
  const eplb::Keys keys{"", opt.weights, "weight", "--replicas", "--groups", "--nodes", "--devices"};
  const std::string text = to_text(eplb::rebalance_experts(weight, opt.replicas, opt.groups, opt.nodes, opt.devices, keys));
  if (opt.output.empty())
    std::cout << text;
  else
    write_file_atomic(opt.output, text);
  return 0;
}

}  // namespace moesim::cli
