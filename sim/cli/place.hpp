// moesim place: DeepSeek EPLB on a weights file, printing phy2log, log2phy and logcnt as JSON.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace moesim::cli {

struct PlaceOptions {
  std::string policy = "eplb";
  std::string weights;  // W.json: {"weight": [[...], ...]}, layers x logical experts
  std::string output;   // "" = stdout
  int replicas = 0, groups = 1, nodes = 1, devices = 0;
};

// Adds the `place` subcommand to app, filling opt when parsed.
CLI::App* add_place_command(CLI::App& app, PlaceOptions& opt);
// Runs it; a bad weights file or parameter throws moesim::Error.
int cmd_place(const PlaceOptions& opt);

}  // namespace moesim::cli
