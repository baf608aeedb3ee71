#include "plan.hpp"

#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/plan.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace moesim::cli {

namespace {

std::string layout(const PlanCandidate& c) {
  return "DP" + std::to_string(c.devices / c.attention_tp) + "xTP" + std::to_string(c.attention_tp) + " EP" +
         std::to_string(c.devices / c.expert_tp) + "xTP" + std::to_string(c.expert_tp);
}

nlohmann::ordered_json candidate_json(const PlanCandidate& c) {
  nlohmann::ordered_json j = {{"hardware", c.hardware}, {"devices", c.devices}, {"attention_tp", c.attention_tp},
                              {"expert_tp", c.expert_tp}, {"batch_per_device", c.batch_per_device},
                              {"tokens_per_step", c.tokens_per_step}};
  if (!c.rejected.empty()) {
    j["rejected"] = c.rejected;
    return j;
  }
  j["step_p99_s"] = c.step_p99_s;
  j["latency_p99_s"] = c.latency_p99_s;
  j["tokens_per_s"] = c.tokens_per_s;
  j["tokens_per_s_per_device"] = c.tokens_per_s_per_device;
  j["meets_latency"] = c.meets_latency;
  j["replicas"] = c.replicas;
  j["usd_per_hour"] = c.usd_per_hour;
  j["usd_per_million_tokens"] = c.usd_per_million_tokens;
  j["on_frontier"] = c.on_frontier;
  return j;
}

void print_table(const PlanRequest& req, const PlanResult& r, bool decode, std::ostream& os) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "plan: %s %s, target %.0f tokens/s", req.base.model.name.c_str(),
                decode ? "decode" : "prefill", req.target_tokens_per_s);
  os << buf;
  const double limit = decode ? req.max_tpot_s : req.max_ttft_s;
  if (limit > 0) os << (decode ? ", TPOT" : ", TTFT") << " p99 <= " << limit * 1e3 << " ms";
  os << "\n" << r.candidates.size() << " candidates, " << r.routing_samples
     << " distinct routing inputs routed (the rest reuse their samples)\n\n";
  std::snprintf(buf, sizeof buf, "%-15s %-14s %-22s %9s %11s %11s %10s %11s\n", "hardware", "devices", "layout",
                "batch/dev", decode ? "TPOT p99" : "TTFT p99", "tok/s/dev", "$/hour", "$/M tokens");
  os << buf;
  for (size_t h = 0; h < req.hardware.size(); ++h) {
    if (r.best[h] < 0) {
      os << req.hardware[h].name << ": no candidate meets the objectives\n";
      continue;
    }
    const auto& c = r.candidates[r.best[h]];
    std::snprintf(buf, sizeof buf, "%-15s %-14s %-22s %9lld %8.1f ms %11.1f %10.2f %11.4f\n", c.hardware.c_str(),
                  (std::to_string(c.devices) + " x " + std::to_string(c.replicas)).c_str(), layout(c).c_str(),
                  (long long)c.batch_per_device, c.latency_p99_s * 1e3, c.tokens_per_s_per_device, c.usd_per_hour,
                  c.usd_per_million_tokens);
    os << buf;
  }
  os << "\nPareto frontier (throughput per device against p99 latency), per hardware:\n";
  for (const auto& c : r.candidates) {
    if (!c.on_frontier) continue;
    std::snprintf(buf, sizeof buf, "  %-15s %4d devices  %-22s batch %5lld  %8.1f ms  %9.1f tok/s/dev\n",
                  c.hardware.c_str(), c.devices, layout(c).c_str(), (long long)c.batch_per_device, c.latency_p99_s * 1e3,
                  c.tokens_per_s_per_device);
    os << buf;
  }
}

}  // namespace

CLI::App* add_plan_command(CLI::App& app, PlanOptions& opt) {
  auto* cmd = app.add_subcommand("plan", "find, per hardware, the cheapest device count, parallel layout and batch "
                                         "that meet a throughput target and a p99 latency objective");
  cmd->add_option("scenario", opt.scenario, "scenario with a deployment (phase, context, dtypes) and a setup")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--target-tokens-per-s", opt.target_tokens_per_s, "whole-deployment throughput to reach")
      ->required()->check(CLI::PositiveNumber);
  cmd->add_option("--max-tpot-ms", opt.max_tpot_ms, "decode: p99 time per output token objective")->check(CLI::PositiveNumber);
  cmd->add_option("--max-ttft-ms", opt.max_ttft_ms, "prefill: p99 time to first token objective")->check(CLI::PositiveNumber);
  cmd->add_option("--hardware", opt.hardware, "hardware presets to consider (default: all)")->delimiter(',');
  cmd->add_option("--devices", opt.devices, "devices per replica to try (default 8..512)")->delimiter(',');
  cmd->add_option("--batch", opt.batch, "per device: sequences (decode) or prompt tokens (prefill)")->delimiter(',');
  cmd->add_option("--set,-s", opt.overrides, "override a scenario key (repeatable)")->type_name("KEY=VALUE");
  cmd->add_option("--format,-f", opt.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("--threads", opt.threads, "worker threads, 0 = all cores; never changes results")->check(CLI::NonNegativeNumber);
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
  const bool decode = req.base.deployment.phase == Phase::decode;
  std::vector<std::string> names = opt.hardware;
  if (names.empty())
    for (const auto& p : list_presets("hardware", default_preset_dirs())) names.push_back(p.name);
  for (const auto& n : names) req.hardware.push_back(load_hardware_preset(n, {}, "--hardware", "--hardware"));
  req.devices = opt.devices;
  req.batch_per_device = opt.batch;
  if (req.batch_per_device.empty())
    req.batch_per_device = decode ? std::vector<int>{4, 8, 16, 24, 32, 48, 64, 96, 128, 192}
                                  : std::vector<int>{512, 1024, 2048, 4096, 8192, 16384};
  req.target_tokens_per_s = opt.target_tokens_per_s;
  req.max_tpot_s = opt.max_tpot_ms / 1e3;
  req.max_ttft_s = opt.max_ttft_ms / 1e3;
  req.threads = opt.threads;
  const PlanResult r = plan(req, builtin_registries());
  if (opt.format == "json") {
    nlohmann::ordered_json j;
    j["schema_version"] = 1;
    j["target_tokens_per_s"] = req.target_tokens_per_s;
    j["max_latency_s"] = decode ? req.max_tpot_s : req.max_ttft_s;
    j["best"] = nlohmann::ordered_json::array();
    for (size_t h = 0; h < req.hardware.size(); ++h)
      j["best"].push_back(r.best[h] < 0 ? nlohmann::ordered_json{{"hardware", req.hardware[h].name}, {"meets", false}}
                                        : candidate_json(r.candidates[r.best[h]]));
    j["candidates"] = nlohmann::ordered_json::array();
    for (const auto& c : r.candidates) j["candidates"].push_back(candidate_json(c));
    std::cout << j.dump(2) << "\n";
  } else {
    print_table(req, r, decode, std::cout);
  }
  return 0;
}

}  // namespace moesim::cli
