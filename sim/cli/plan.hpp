// moesim plan: the cheapest setup per hardware that meets a throughput target and latency objective.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace moesim::cli {

struct PlanOptions {
  std::string scenario;
  std::vector<std::string> overrides;
  double target_tokens_per_s = 0;
  double max_tpot_ms = 0, max_ttft_ms = 0;
  std::vector<std::string> hardware;  // empty = every preset
  std::vector<int> devices = {8, 16, 32, 64, 128, 256, 512};
  std::vector<int> batch;             // empty = a default ladder for the phase
  std::string format = "table";
  int threads = 0;
};

CLI::App* add_plan_command(CLI::App& app, PlanOptions& opt);
int cmd_plan(const PlanOptions& opt);

}  // namespace moesim::cli
