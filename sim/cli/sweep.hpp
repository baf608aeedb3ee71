// moesim sweep: a scenario over the Cartesian product of --grid axes, in parallel, streamed to a file.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace moesim::cli {

struct SweepOptions {
  std::string scenario;
  std::vector<std::string> grids;      // "key=v1,v2,..."
  std::vector<std::string> overrides;  // --set, applied to every point
  std::string output;                  // "" = standard output
  std::string format = "csv";          // csv or jsonl
  bool resume = false;
  std::string report;                  // --report FILE.html ("" = none)
  int threads = 0;                     // 0 = all cores
};

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& opt);
int cmd_sweep(const SweepOptions& opt);

}  // namespace moesim::cli
