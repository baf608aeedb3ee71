// moesim command line: run, compare, validate, list, place, sweep, plan.
#include "checks.hpp"
#include "commands.hpp"
#include "place.hpp"
#include "plan.hpp"
#include "sweep.hpp"

#include "moesim/error.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

void add_run_options(CLI::App* cmd, moesim::cli::RunOptions& opt) {
  cmd->add_option("--format,-f", opt.format, "output format: table (for people), json, csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  cmd->add_option("--output,-o", opt.output, "write the report to FILE (atomically) instead of standard output");
  cmd->add_option("--report", opt.report,
                  "also write a self-contained HTML page with charts (device load, expert heatmap, step-time "
                  "breakdown) to FILE (atomically)")
      ->type_name("FILE.html");
  cmd->add_option("--seed", opt.seed, "random seed (overrides run.seed)")->check(moesim::cli::at_least(0));
  cmd->add_option("--steps", opt.steps, "batches to simulate (overrides run.steps)")->check(moesim::cli::at_least(1));
  cmd->add_option("--threads", opt.threads, "worker threads, 0 = all cores (overrides run.threads); never changes results")
      ->check(moesim::cli::at_least(0));
  cmd->add_flag("--per-layer", opt.per_layer, "csv: one row per setup and MoE layer");
  cmd->add_flag("--per-step", opt.per_step, "csv: one row per setup and step, metrics averaged over the layers");
  cmd->add_option("--model", opt.model_file,
                  "a HuggingFace config.json replacing the scenario's model (DeepSeek-V2/V3, Qwen2/3-MoE, Mixtral, "
                  "Pangu Pro MoE, Ling, dense Llama/Qwen)")
      ->check(CLI::ExistingFile);
}

void add_set_option(CLI::App* cmd, moesim::cli::RunOptions& opt) {
  cmd->add_option("--set,-s", opt.overrides,
                  "override a scenario key by its path, e.g. --set run.tokens_per_step=4096 "
                  "--set setups[1].router.k=4 (repeatable)")
      ->type_name("KEY=VALUE");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moesim: Mixture-of-Experts routing and load-balance simulator"};
  app.require_subcommand(1);
  moesim::cli::RunOptions opt;
  std::string list_what;
  bool list_detail = false;

  auto* run = app.add_subcommand("run", "run a scenario's setups and report load balance");
  run->add_option("scenario", opt.scenarios, "scenario YAML file")->required()->expected(1)->check(CLI::ExistingFile);
  add_run_options(run, opt);
  add_set_option(run, opt);

  auto* compare = app.add_subcommand(
      "compare", "run several scenarios on the same token stream (same seed) and print them side by side with ratios");
  compare->add_option("scenarios", opt.scenarios, "scenario YAML files")->required()->check(CLI::ExistingFile);
  add_run_options(compare, opt);
  add_set_option(compare, opt);

  auto* validate = app.add_subcommand(
      "validate", "check scenario files without running them; with --published, compare the throughput model "
                  "against published measurements (configs/validation/)");
  validate->add_option("scenarios", opt.scenarios, "scenario YAML files (with --published: validation cases; default all)")
      ->check(CLI::ExistingFile);
  validate->add_flag("--published", opt.published,
                     "run configs/validation/*.yaml and print name, metric, predicted, published, relative error; "
                     "exit 1 if any error exceeds its bound");
  validate->add_option("--format,-f", opt.format, "with --published: table or json")->check(CLI::IsMember({"table", "json"}));
  add_set_option(validate, opt);

  auto* list = app.add_subcommand("list", "print what is registered, each with a one-line description");
  list->add_option("what", list_what, "routers, placements, workloads, formats, cost-models, models, hardware or scenarios (default: all)");
  list->add_flag("--detail", list_detail,
                 "hardware: every nominal figure, every calibrated value with its source, what the model achieves, the price");

  moesim::cli::PlaceOptions place_opt;
  auto* place = moesim::cli::add_place_command(app, place_opt);
  moesim::cli::SweepOptions sweep_opt;
  auto* sweep = moesim::cli::add_sweep_command(app, sweep_opt);
  moesim::cli::PlanOptions plan_opt;
  auto* plan = moesim::cli::add_plan_command(app, plan_opt);

  try {
    app.parse(argc, argv);
    if (*validate && !opt.published && opt.scenarios.empty())
      throw CLI::RequiredError("validate needs scenario files (or --published)");
    if ((opt.per_layer || opt.per_step) && opt.format != "csv")
      throw CLI::ValidationError(std::string(opt.per_step ? "--per-step" : "--per-layer") +
                                 ": applies to --format csv (the json document always has per_layer and per_step; "
                                 "got --format " + opt.format + ")");
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help); a bad command line exits 2 like every other bad input.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*run || *compare) return moesim::cli::cmd_run(opt);
    if (*validate) return moesim::cli::cmd_validate(opt);
    if (*list) return moesim::cli::cmd_list(list_what, list_detail);
    if (*place) return moesim::cli::cmd_place(place_opt);
    if (*sweep) return moesim::cli::cmd_sweep(sweep_opt);
    if (*plan) return moesim::cli::cmd_plan(plan_opt);
  } catch (const moesim::Error& e) {
    std::cerr << "moesim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "moesim: error: out of memory: the scenario needs more memory than this machine gives it; "
                 "reduce run.tokens_per_step (scores take tokens x experts x 4 bytes per batch), run.steps or the "
                 "number of setups\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "moesim: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
