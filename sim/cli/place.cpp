// moesim place: DeepSeek EPLB (deepseek-ai/EPLB rebalance_experts) on a weights file, so EPLB users can
// run it without Python. Prints {"phy2log": [layers][replicas], "log2phy": [layers][experts][max_replicas],
// "logcnt": [layers][experts]} as JSON.
#include "place.hpp"

#include "commands.hpp"
#include "moesim/error.hpp"

// The EPLB core is private to the library (sim/src); the CLI is its second caller.
#include "placement/eplb.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace moesim::cli {
namespace {

using nlohmann::json;

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "", "cannot open the weights file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Text of a JSON value for an error message, cut short when long.
std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

json parse_json(const std::string& text, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    const auto at = msg.find("] ");
    throw Error(path, "byte " + std::to_string(e.byte), "", "not valid JSON: " + msg.substr(at == std::string::npos ? 0 : at + 2));
  } catch (const json::exception& e) {
    std::string msg = e.what();
    const auto at = msg.find("] ");
    throw Error(path, "", "", "not valid JSON: " + msg.substr(at == std::string::npos ? 0 : at + 2));
  }
}

// W.json: {"weight": [[...], ...]}, layers x logical experts. Values are checked (finite, >= 0, rows of
// equal length) by the EPLB core with the same file and key names.
eplb::WeightMatrix read_weights(const std::string& path) {
  const json doc = parse_json(read_whole_file(path), path);
  if (!doc.is_object())
    throw Error(path, "weight", shown(doc), "expected an object {\"weight\": [[...], ...]}, layers x logical experts");
  const auto it = doc.find("weight");
  if (it == doc.end()) throw Error(path, "weight", "", "missing: expected a list of layers, each a list of expert loads");
  if (!it->is_array() || it->empty())
    throw Error(path, "weight", shown(*it), "expected a non-empty list of layers, each a list of expert loads");
  eplb::WeightMatrix w;
  for (size_t l = 0; l < it->size(); ++l) {
    const json& row = (*it)[l];
    const std::string key = "weight[" + std::to_string(l) + "]";
    if (!row.is_array()) throw Error(path, key, shown(row), "expected a list of expert loads");
    std::vector<double> loads;
    for (size_t e = 0; e < row.size(); ++e) {
      if (!row[e].is_number())
        throw Error(path, key + "[" + std::to_string(e) + "]", shown(row[e]), "expected a non-negative number");
      loads.push_back(row[e].get<double>());
    }
    w.push_back(std::move(loads));
  }
  return w;
}

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
  const eplb::WeightMatrix weight = read_weights(opt.weights);
  const eplb::Keys keys{"", opt.weights, "weight", "--replicas", "--groups", "--nodes", "--devices"};
  const std::string text = to_text(eplb::rebalance_experts(weight, opt.replicas, opt.groups, opt.nodes, opt.devices, keys));
  if (opt.output.empty())
    std::cout << text;
  else
    write_file_atomic(opt.output, text);
  return 0;
}

}  // namespace moesim::cli
