// moesim plan: options, their checks (a limit or option that does not apply to the plan is an error,
// never ignored), and the request the planner gets.
#include "plan.hpp"

#include "checks.hpp"
#include "commands.hpp"
#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/plan.hpp"
#include "plan_output.hpp"

#include <cmath>
#include <iostream>

namespace moesim::cli {

namespace {

constexpr PlanMode kModes[] = {PlanMode::phase, PlanMode::disaggregated, PlanMode::colocated};

std::vector<std::string> mode_names() {
  std::vector<std::string> names;
  for (PlanMode mode : kModes) names.push_back(to_string(mode));
  return names;
}

// --mode's value (CLI11 checked it is one of kModes' names).
PlanMode parse_mode(const std::string& m) {
  for (PlanMode mode : kModes)
    if (m == to_string(mode)) return mode;
  return PlanMode::phase;
}

// Options that do not apply to the chosen mode and phase are refused, each with what to do instead.
void check_options(const PlanOptions& opt, const ScenarioSpec& base) {
  const bool mixed = parse_mode(opt.mode) != PlanMode::phase;
  const Phase phase = base.deployment.phase;
  const std::string ph = to_string(phase);
  if (!mixed) {
    const std::string why = "the scenario plans " + ph + " alone (deployment.phase: " + ph + ")";
    const std::string instead = "; plan prefill and decode together with --mode disaggregated or --mode colocated "
                                "(with --input-tokens and --output-tokens), or set deployment.phase";
    if (phase == Phase::decode && opt.max_ttft_ms > 0)
      throw Error("", "--max-ttft-ms", value_text(opt.max_ttft_ms), why + ", which has no time to first token" + instead);
    if (phase == Phase::prefill && opt.max_tpot_ms > 0)
      throw Error("", "--max-tpot-ms", value_text(opt.max_tpot_ms), why + ", which has no time per output token" + instead);
    if (opt.input_tokens > 0 || opt.output_tokens > 0)
      throw Error("", opt.input_tokens > 0 ? "--input-tokens" : "--output-tokens",
                  std::to_string(opt.input_tokens > 0 ? opt.input_tokens : opt.output_tokens),
                  "only with --mode disaggregated or colocated; a " + ph + " plan uses deployment.context_length (" +
                      std::to_string(base.deployment.context_length) + ")");
    if (phase == Phase::prefill && !opt.batch.empty())
      throw Error("", "--batch", std::to_string(opt.batch[0]), "is the decode batch (sequences per device); a prefill plan takes --prefill-batch (prompt tokens per device)");
    if (phase == Phase::decode && !opt.prefill_batch.empty())
      throw Error("", "--prefill-batch", std::to_string(opt.prefill_batch[0]), "a decode plan has no prefill batch; it takes --batch (sequences per device)");
    return;
  }
  if (opt.input_tokens <= 0 || opt.output_tokens <= 0)
    throw Error("", opt.input_tokens <= 0 ? "--input-tokens" : "--output-tokens", "",
                "--mode " + opt.mode + " needs the tokens of a request: --input-tokens (prompt) and --output-tokens (answer)");
}

// --price HW=USD_PER_HOUR: replaces the preset's price; the output then names the command line as its source.
void apply_prices(const std::vector<std::string>& prices, std::vector<HardwareSpec>& hardware) {
  for (const auto& p : prices) {
    const size_t eq = p.find('=');
    const std::string name = p.substr(0, eq == std::string::npos ? 0 : eq);
    HardwareSpec* h = nullptr;
    std::string names;
    for (auto& hw : hardware) {
      if (hw.name == name) h = &hw;
      names += (names.empty() ? "" : ", ") + hw.name;
    }
    if (eq == std::string::npos || name.empty()) throw Error("", "--price", p, "expected HARDWARE=USD_PER_HOUR, e.g. h800=2.5");
    if (!h) throw Error("", "--price", p, "'" + name + "' is not among the planned hardware: " + names);
    const std::string v = p.substr(eq + 1);
    char* end = nullptr;
    const double usd = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(usd) || usd < 0)
      throw Error("", "--price", p, "expected a price in USD per device-hour, a number >= 0");
    h->usd_per_hour = usd;
    h->price_source = "--price on the command line";
    h->price_date = "";
  }
}

}  // namespace

CLI::App* add_plan_command(CLI::App& app, PlanOptions& opt) {
  auto* cmd = app.add_subcommand("plan", "find, per hardware, the cheapest device count, parallel layout, batch and "
                                         "setup (router) that meet a throughput target and p99 latency limits");
  cmd->add_option("scenario", opt.scenario, "scenario with a deployment (phase, context, dtypes) and its setups")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--target-tokens-per-s", opt.target_tokens_per_s,
                  "whole-deployment throughput: output tokens/s (decode, disaggregated, colocated) or input tokens/s (prefill)")
      ->required()->check(CLI::PositiveNumber);
  cmd->add_option("--mode", opt.mode,
                  "phase: the scenario's deployment.phase alone; disaggregated: a prefill pool (TTFT) and a decode pool "
                  "(TPOT), costs added; colocated: one pool doing both")
      ->check(CLI::IsMember(mode_names()));
  cmd->add_option("--input-tokens", opt.input_tokens, "disaggregated/colocated: prompt tokens per request")->check(CLI::PositiveNumber);
  cmd->add_option("--output-tokens", opt.output_tokens, "disaggregated/colocated: output tokens per request")->check(CLI::PositiveNumber);
  cmd->add_option("--max-tpot-ms", opt.max_tpot_ms, "p99 time per output token limit (decode)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-ttft-ms", opt.max_ttft_ms, "p99 time to first token limit (prefill)")->check(CLI::PositiveNumber);
  cmd->add_option("--hardware", opt.hardware, "hardware presets to consider (default: all)")->delimiter(',');
  cmd->add_option("--devices", opt.devices, "devices per replica to try (default 8..512)")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--batch", opt.batch, "decode: sequences per device to try (default 4..192)")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--prefill-batch", opt.prefill_batch, "prefill: prompt tokens per device to try (default 512..16384)")
      ->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--tp", opt.tensor_parallel, "attention and expert tensor-parallel degrees to try (default 1,2,4,8)")
      ->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--sample-steps", opt.sample_steps, "routed steps per routing input (default 2)")->check(CLI::PositiveNumber);
  cmd->add_option("--sample-layers", opt.sample_layers, "routed MoE layers per step (default 2)")->check(CLI::PositiveNumber);
  cmd->add_option("--sample-tokens-per-rank", opt.sample_tokens_per_rank,
                  "route at most this many tokens per expert-parallel rank and scale the loads to the batch "
                  "(overestimates the imbalance; 0 = route whole batches)")
      ->check(moesim::cli::at_least(0));
  cmd->add_option("--price", opt.prices, "price of a device-hour in USD, replacing the preset's (repeatable)")
      ->type_name("HW=USD_PER_HOUR");
  cmd->add_option("--set,-s", opt.overrides, "override a scenario key (repeatable)")->type_name("KEY=VALUE");
  cmd->add_option("--format,-f", opt.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("--report", opt.report,
                  "also write a self-contained HTML page: the cheapest setups, throughput against batch size for "
                  "each one's layout, and the Pareto frontier of every candidate")
      ->type_name("FILE.html");
  cmd->add_option("--threads", opt.threads, "worker threads, 0 = all cores; never changes results")->check(moesim::cli::at_least(0));
  return cmd;
}

int cmd_plan(const PlanOptions& opt) {
  LoadOptions lo;
  lo.overrides = opt.overrides;
  PlanRequest req;
  req.base = load_scenario(opt.scenario, lo, builtin_registries());
  if (!req.base.deployment.enabled)
    throw Error(opt.scenario, "deployment", "", "plan needs a deployment section (phase, context_length, dtypes)");
  if (!req.base.model.is_moe()) throw Error(opt.scenario, "model", req.base.model.name, "plan needs an MoE model");
  if (req.base.deployment.phase != Phase::decode && req.base.deployment.phase != Phase::prefill)
    throw Error(opt.scenario, "deployment.phase", to_string(req.base.deployment.phase), "plan serves inference: decode or prefill");
  check_options(opt, req.base);
  std::vector<std::string> names = opt.hardware;
  if (names.empty())
    for (const auto& p : list_presets("hardware", default_preset_dirs())) names.push_back(p.name);
  for (const auto& n : names) req.hardware.push_back(load_hardware_preset(n, {}, "--hardware", "--hardware"));
  apply_prices(opt.prices, req.hardware);
  req.mode = parse_mode(opt.mode);
  req.devices = opt.devices;
  req.decode_batch = opt.batch.empty() ? std::vector<int>{4, 8, 16, 24, 32, 48, 64, 96, 128, 192} : opt.batch;
  req.prefill_batch = opt.prefill_batch.empty() ? std::vector<int>{512, 1024, 2048, 4096, 8192, 16384} : opt.prefill_batch;
  req.tensor_parallel = opt.tensor_parallel;
  req.input_tokens = opt.input_tokens;
  req.output_tokens = opt.output_tokens;
  req.target_tokens_per_s = opt.target_tokens_per_s;
  req.max_tpot_s = opt.max_tpot_ms / 1e3;
  req.max_ttft_s = opt.max_ttft_ms / 1e3;
  req.sample_steps = opt.sample_steps;
  req.sample_layers = opt.sample_layers;
  req.sample_tokens_per_rank = opt.sample_tokens_per_rank;
  req.threads = opt.threads;
  const PlanResult r = plan(req, builtin_registries());
  if (opt.format == "json") std::cout << plan_json(req, r).dump(2) << "\n";
  else write_plan_table(req, r, std::cout);
  if (!opt.report.empty())
    write_file_atomic(opt.report, render_html_report({}, plan_report_extras(req, r)), "--report");
  return 0;
}

}  // namespace moesim::cli
