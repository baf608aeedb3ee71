// moesim plan: the cheapest setup per hardware that meets a throughput target and latency limits.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace moesim::cli {

struct PlanOptions {
  std::string scenario;
  std::vector<std::string> overrides;
  double target_tokens_per_s = 0;
  std::string mode = "phase";          // phase, disaggregated, colocated
  long long input_tokens = 0, output_tokens = 0;  // per request (disaggregated, colocated)
  double max_tpot_ms = 0, max_ttft_ms = 0;
  std::vector<std::string> hardware;   // empty = every preset
  std::vector<int> devices = {8, 16, 32, 64, 128, 256, 512};
  std::vector<int> batch;              // decode sequences per device; empty = a default ladder
  std::vector<int> prefill_batch;      // prefill prompt tokens per device; empty = a default ladder
  std::vector<int> tensor_parallel = {1, 2, 4, 8};
  int sample_steps = 2, sample_layers = 2;
  long long sample_tokens_per_rank = 1024;
  std::vector<std::string> prices;     // --price HW=USD_PER_HOUR
  std::string format = "table";
  std::string report;                  // --report FILE.html
  int threads = 0;
};

CLI::App* add_plan_command(CLI::App& app, PlanOptions& opt);
int cmd_plan(const PlanOptions& opt);

}  // namespace moesim::cli
