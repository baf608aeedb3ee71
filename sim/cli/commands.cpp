#include "commands.hpp"

#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/html_report.hpp"
#include "moesim/report.hpp"
#include "moesim/simulator.hpp"
#include "moesim/validation.hpp"
#include "report/throughput_report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace moesim::cli {

namespace {

ReporterRegistry make_reporters() {
  ReporterRegistry r("format");
  register_builtin_reporters(r);
  return r;
}

LoadOptions load_options(const RunOptions& opt) {
  LoadOptions lo;
  lo.overrides = opt.overrides;
  lo.model_file = opt.model_file;
  if (opt.seed >= 0) lo.overrides.push_back("run.seed=" + std::to_string(opt.seed));
  if (opt.steps >= 0) lo.overrides.push_back("run.steps=" + std::to_string(opt.steps));
  if (opt.threads >= 0) lo.overrides.push_back("run.threads=" + std::to_string(opt.threads));
  return lo;
}

std::vector<ScenarioSpec> load_all(const RunOptions& opt) {
  std::vector<ScenarioSpec> specs;
  const LoadOptions lo = load_options(opt);
  for (const auto& path : opt.scenarios) {
    ScenarioSpec s = load_scenario(path, lo, builtin_registries());
    specs.push_back(std::move(s));
  }
  return specs;
}

// compare promises one token stream for every scenario: the seed (with the workload) decides the router
// logits, so scenarios with different seeds would be compared on different tokens. --seed sets them all.
void require_same_seed(const std::vector<ScenarioSpec>& specs) {
  for (const auto& s : specs)
    if (s.run.seed != specs.front().run.seed)
      throw Error(s.file, "run.seed", std::to_string(s.run.seed),
                  "compare runs every scenario on the same token stream, but " + specs.front().file + " has run.seed " +
                      std::to_string(specs.front().run.seed) + "; give --seed N to use one seed for all");
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text, const std::string& option) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path, option, path, "cannot open for writing");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error(path, option, path, "write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(path, option, path, "cannot replace the file: " + ec.message());
  }
}

int cmd_run(const RunOptions& opt) {
  const ReporterRegistry reporters = make_reporters();
  const auto& reporter_factory = reporters.get(opt.format, "", "--format");
  const std::vector<ScenarioSpec> specs = load_all(opt);
  require_same_seed(specs);
  std::vector<ScenarioResult> results;
  for (const auto& s : specs) results.push_back(simulate(s, builtin_registries()));
  ReportOptions ro;
  ro.per_layer = opt.per_layer;
  ro.per_step = opt.per_step;
  std::ostringstream text;
  reporter_factory.factory()->write(results, ro, text);
  if (opt.output.empty()) {
    std::cout << text.str() << std::flush;
  } else {
    write_file_atomic(opt.output, text.str());
  }
  if (!opt.report.empty()) write_file_atomic(opt.report, render_html_report(results), "--report");
  return 0;
}

namespace {

// Runs the published-measurement cases and prints name, metric, predicted, published and relative error.
// Exit status 1 when any error is beyond its tolerance.
int validate_published_cmd(const RunOptions& opt) {
  std::vector<std::string> files = opt.scenarios;
  if (files.empty()) files = published_cases(default_preset_dirs());
  if (files.empty()) throw Error("", "--published", "", "no configs/validation/*.yaml found; set MOESIM_CONFIG_DIR");
  const auto rows = validate_published(files, builtin_registries());
  bool all_within = true;  // known misses at their recorded error do not fail the run
  for (const auto& r : rows) all_within = all_within && r.accepted();
  if (opt.format == "json") {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& r : rows)
      a.push_back({{"name", r.name}, {"metric", r.metric}, {"predicted", r.predicted}, {"published", r.published},
                   {"error", r.error}, {"tolerance", r.tolerance}, {"within_tolerance", r.within()}, {"role", r.role},
                   {"known_miss", r.known_miss ? nlohmann::ordered_json(r.miss_reason) : nlohmann::ordered_json(nullptr)},
                   {"source", r.source}});
    std::cout << a.dump(2) << "\n";
  } else {
    std::printf("%-32s %-60s %12s %12s %8s %5s  %s\n", "name", "metric", "predicted", "published", "error", "bound", "role");
    for (const auto& r : rows)
      std::printf("%-32s %-60s %12.6g %12.6g %+7.1f%% %4.0f%%  %s%s\n", r.name.c_str(), r.metric.c_str(), r.predicted,
                  r.published, 100.0 * r.error, 100.0 * r.tolerance, r.role == "calibration" ? "calibration" : "held out",
                  r.within() ? "" : r.accepted() ? "  KNOWN MISS" : "  OUT OF BOUND");
  }
  return all_within ? 0 : 1;
}

}  // namespace

int cmd_validate(const RunOptions& opt) {
  if (opt.published) return validate_published_cmd(opt);
  const std::vector<ScenarioSpec> specs = load_all(opt);
  for (const auto& s : specs) {
    check_scenario(s, builtin_registries());
    std::cout << s.file << ": ok (" << s.setups.size() << (s.setups.size() == 1 ? " setup" : " setups") << ", model "
              << s.model.name << ", " << s.cluster.devices << " devices)\n";
  }
  return 0;
}

int cmd_list(const std::string& what, bool detail) {
  const Registries& reg = builtin_registries();
  const auto section = [&](const std::string& title, const auto& registry) {
    std::cout << title << ":\n";
    for (const auto* e : registry.entries()) std::printf("  %-16s %s\n", e->name.c_str(), e->description.c_str());
  };
  const auto presets = [&](const std::string& kind) {
    std::cout << kind << ":\n";
    const auto found = list_presets(kind, default_preset_dirs());
    if (found.empty()) std::cout << "  (none found; set MOESIM_CONFIG_DIR to the configs/ folder)\n";
    for (const auto& p : found) std::printf("  %-16s %s\n", p.name.c_str(), p.description.c_str());
    if (detail && kind == "hardware")  // nominal and calibrated figures side by side, with their sources
      for (const auto& p : found) write_hardware_detail(load_hardware_preset(p.name, default_preset_dirs()), std::cout);
  };
  const bool all = what.empty();
  bool known = all;
  if (all || what == "routers") section("routers", reg.routers), known = true;
  if (all || what == "placements") section("placements", reg.placements), known = true;
  if (all || what == "workloads") section("workloads", reg.workloads), known = true;
  if (all || what == "formats") section("formats", make_reporters()), known = true;
  if (all || what == "cost-models") section("cost models", reg.cost_models), known = true;
  if (all || what == "models") presets("models"), known = true;
  if (all || what == "hardware") presets("hardware"), known = true;
  if (all || what == "scenarios") presets("scenarios"), known = true;
  if (!known)
    throw Error("", "list", what, "unknown list; valid: routers, placements, workloads, formats, cost-models, models, hardware, scenarios");
  return 0;
}

}  // namespace moesim::cli
