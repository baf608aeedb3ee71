// moesim subcommands. CLI11 lives only in sim/cli/.
#pragma once

#include <string>
#include <vector>

namespace moesim::cli {

struct RunOptions {
  std::vector<std::string> scenarios;  // one for run, several for compare
  std::string format = "table";
  std::string output;  // "" = stdout
  std::string report;  // --report FILE.html: also write the self-contained HTML report ("" = none)
  std::vector<std::string> overrides;
  long long seed = -1, steps = -1, threads = -1;  // -1 = as in the scenario
  bool per_layer = false;
  bool per_step = false;  // --per-step: csv rows per (setup, step)
  bool published = false;
  std::string model_file;  // --model config.json  // validate: run configs/validation/ against published measurements
};

int cmd_run(const RunOptions& opt);       // run and compare
int cmd_validate(const RunOptions& opt);  // parse and check only
int cmd_list(const std::string& what, bool detail = false);

// Writes text to path atomically (temporary file in the same folder, then rename), so an
// interrupted write never leaves a half-written file in place of the user's old one.
// option names the command-line option in error messages.
void write_file_atomic(const std::string& path, const std::string& text, const std::string& option = "--output");

}  // namespace moesim::cli
