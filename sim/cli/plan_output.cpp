#include "plan_output.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

namespace moesim::cli {

namespace {

using json = nlohmann::ordered_json;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string layout(const PlanCandidate& c) {
  return "DP" + std::to_string(c.devices / c.attention_tp) + "xTP" + std::to_string(c.attention_tp) + " EP" +
         std::to_string(c.devices / c.expert_tp) + "xTP" + std::to_string(c.expert_tp);
}

std::string setup_label(const PlanRequest& req, int s) {
  if (s < 0) return "-";
  const SetupSpec& sp = req.base.setups[size_t(s)];
  return sp.name + " (" + sp.router.name + ")";
}

std::string target_text(const PlanRequest& req) {
  const bool input = req.mode == PlanMode::phase && req.base.deployment.phase == Phase::prefill;
  return fmt("%.0f", req.target_tokens_per_s) + (input ? " input" : " output") + " tokens/s";
}

std::string mode_text(const PlanRequest& req) {
  const std::string mix = " (" + std::to_string(req.input_tokens) + " input + " + std::to_string(req.output_tokens) +
                          " output tokens per request)";
  switch (req.mode) {
    case PlanMode::phase: return to_string(req.base.deployment.phase);
    case PlanMode::disaggregated: return "disaggregated prefill and decode" + mix;
    case PlanMode::colocated: return "colocated prefill and decode" + mix;
  }
  return "";
}

std::string limits_text(const PlanRequest& req) {
  std::string s;
  if (req.max_tpot_s > 0) s += ", TPOT p99 <= " + fmt("%g", req.max_tpot_s * 1e3) + " ms";
  if (req.max_ttft_s > 0) s += ", TTFT p99 <= " + fmt("%g", req.max_ttft_s * 1e3) + " ms";
  return s.empty() ? ", no latency limit" : s;
}

std::string price_text(const HardwareSpec& h) {
  std::string s = h.name + " $" + fmt("%.2f", h.usd_per_hour) + " (" + h.price_source;
  if (!h.price_date.empty()) s += ", " + h.price_date;
  return s + ")";
}

// One table row per pool of a choice.
void choice_rows(const PlanRequest& req, const PlanResult& r, const PlanChoice& c, const std::string& mark,
                 std::ostream& os) {
  char buf[320];
  const auto row = [&](const std::string& first, const std::string& pool, int i, const std::string& money) {
    const PlanCandidate& k = r.candidates[size_t(i)];
    const int replicas = req.mode == PlanMode::colocated ? c.replicas : k.replicas;
    std::snprintf(buf, sizeof buf, "%-16s %-8s %-24s %4d x %-5d %-20s %9lld %s %8.1f ms %10.1f  %s\n", first.c_str(),
                  pool.c_str(), setup_label(req, k.setup).c_str(), k.devices, replicas, layout(k).c_str(),
                  (long long)k.batch_per_device, k.phase == Phase::decode ? "TPOT" : "TTFT", k.latency_p99_s * 1e3,
                  k.tokens_per_s_per_device, money.c_str());
    os << buf;
  };
  const std::string total = "$" + fmt("%.0f", c.usd_per_hour) + "/hour  $" + fmt("%.4f", c.usd_per_million_tokens) + "/M tokens";
  const std::string name = mark + c.hardware;
  if (c.setup < 0) {
    os << name << ": " << c.reason << "\n";
    return;
  }
  if (!c.meets) os << name << ": " << c.reason << "; the nearest miss:\n";
  switch (req.mode) {
    case PlanMode::phase: row(name, to_string(req.base.deployment.phase), c.decode >= 0 ? c.decode : c.prefill, total); break;
    case PlanMode::disaggregated: {
      const auto pool_money = [&](int i) {
        const PlanCandidate& k = r.candidates[size_t(i)];
        return "$" + fmt("%.0f", k.usd_per_hour) + "/hour  $" + fmt("%.4f", k.usd_per_million_tokens) +
               (k.phase == Phase::decode ? "/M output" : "/M input");
      };
      row(name, "prefill", c.prefill, pool_money(c.prefill));
      row("", "decode", c.decode, pool_money(c.decode));
      std::snprintf(buf, sizeof buf, "%-16s %-8s %s\n", "", "total", (total + " (output, prefill included)").c_str());
      os << buf;
      break;
    }
    case PlanMode::colocated:
      row(name, "decode", c.decode, "");
      row("", "prefill", c.prefill, "");
      std::snprintf(buf, sizeof buf, "%-16s %-8s shared pool: prefilling %.0f%% of the time; TPOT %.1f ms, TTFT %.1f ms; %s\n",
                    "", "total", 100 * c.prefill_fraction, c.tpot_s * 1e3, c.ttft_s * 1e3, total.c_str());
      os << buf;
      break;
  }
}

}  // namespace

void write_plan_table(const PlanRequest& req, const PlanResult& r, std::ostream& os) {
  os << "plan: " << req.base.model.name << " " << mode_text(req) << ", target " << target_text(req) << limits_text(req)
     << "\n";
  os << r.candidates.size() << " candidates over " << req.hardware.size() << " hardware, " << req.base.setups.size()
     << (req.base.setups.size() == 1 ? " setup" : " setups") << "; " << plan_sampling_note(req, r) << "\n";
  os << "prices per device-hour:";
  for (size_t h = 0; h < req.hardware.size(); ++h) os << (h ? "; " : " ") << price_text(req.hardware[h]);
  os << "\n\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-16s %-8s %-24s %-12s %-20s %9s %11s %10s  %s\n", "hardware", "pool", "setup (router)",
                "devices x n", "layout", "batch/dev", "latency p99", "tok/s/dev", "cost at the target");
  os << buf;
  const bool several = req.base.setups.size() > 1;
  for (size_t h = 0; h < req.hardware.size(); ++h) {
    if (!several) {
      choice_rows(req, r, r.best[h], "", os);
      continue;
    }
    for (const auto& c : r.best_per_setup[h])  // '*' marks the hardware's best setup
      choice_rows(req, r, c, c.setup == r.best[h].setup && c.meets == r.best[h].meets ? "*" : " ", os);
  }
  os << "\ncheapest overall: ";
  if (r.cheapest.setup < 0 || !r.cheapest.meets) os << "none meets the target and limits\n";
  else
    os << r.cheapest.hardware << ", " << setup_label(req, r.cheapest.setup) << ", $" << fmt("%.0f", r.cheapest.usd_per_hour)
       << "/hour, $" << fmt("%.4f", r.cheapest.usd_per_million_tokens) << "/M tokens\n";
  os << "\nPareto frontier (throughput per device against p99 latency), per hardware and phase:\n";
  for (const auto& c : r.candidates) {
    if (!c.on_frontier) continue;
    std::snprintf(buf, sizeof buf, "  %-15s %-7s %-24s %4d devices  %-20s batch %5lld  %8.1f ms  %9.1f tok/s/dev\n",
                  c.hardware.c_str(), to_string(c.phase), setup_label(req, c.setup).c_str(), c.devices, layout(c).c_str(),
                  (long long)c.batch_per_device, c.latency_p99_s * 1e3, c.tokens_per_s_per_device);
    os << buf;
  }
}

namespace {

json opt_num(bool present, double v) { return present ? json(v) : json(nullptr); }

json candidate_json(const PlanRequest& req, const PlanCandidate& c) {
  const bool costed = c.rejected.empty();
  return {{"phase", to_string(c.phase)},
          {"hardware", c.hardware},
          {"setup", req.base.setups[size_t(c.setup)].name},
          {"router", req.base.setups[size_t(c.setup)].router.name},
          {"devices", c.devices},
          {"attention_tp", c.attention_tp},
          {"expert_tp", c.expert_tp},
          {"layout", layout(c)},
          {"batch_per_device", c.batch_per_device},
          {"tokens_per_step", c.tokens_per_step},
          {"routed_tokens", c.routed_tokens},
          {"rejected", costed ? json(nullptr) : json(c.rejected)},
          {"step_p99_s", opt_num(costed, c.step_p99_s)},
          {"latency_p99_s", opt_num(costed, c.latency_p99_s)},
          {"kv_handoff_s", opt_num(costed, c.kv_handoff_s)},
          {"tokens_per_s", opt_num(costed, c.tokens_per_s)},
          {"tokens_per_s_per_device", opt_num(costed, c.tokens_per_s_per_device)},
          {"meets_latency", costed ? json(c.meets_latency) : json(nullptr)},
          {"replicas", costed ? json(c.replicas) : json(nullptr)},
          {"usd_per_hour", opt_num(costed, c.usd_per_hour)},
          {"usd_per_million_tokens", opt_num(costed, c.usd_per_million_tokens)},
          {"memory_total_bytes", opt_num(costed || c.memory.capacity > 0, c.memory.total())},
          {"on_frontier", c.on_frontier}};
}

// Every choice has the same keys; "pools" holds one candidate (phase), or the prefill and decode pools.
json choice_json(const PlanRequest& req, const PlanResult& r, const PlanChoice& c) {
  const bool costed = c.setup >= 0;
  json pools = json::array();
  const auto pool = [&](const char* role, int i) {
    if (i < 0) return;
    json p = {{"role", role}};
    const json cand = candidate_json(req, r.candidates[size_t(i)]);
    for (const auto& [k, v] : cand.items()) p[k] = v;
    if (req.mode == PlanMode::colocated) p["replicas"] = c.replicas, p["usd_per_hour"] = nullptr, p["shared"] = true;
    pools.push_back(p);
  };
  pool("prefill", c.prefill);
  pool("decode", c.decode);
  return {{"hardware", c.hardware},
          {"meets", c.meets},
          {"reason", c.meets ? json(nullptr) : json(c.reason)},
          {"setup", costed ? json(req.base.setups[size_t(c.setup)].name) : json(nullptr)},
          {"router", costed ? json(req.base.setups[size_t(c.setup)].router.name) : json(nullptr)},
          {"usd_per_hour", opt_num(costed, c.usd_per_hour)},
          {"usd_per_million_tokens", opt_num(costed, c.usd_per_million_tokens)},
          {"tpot_s", opt_num(costed && c.decode >= 0, c.tpot_s)},
          {"ttft_s", opt_num(costed && c.prefill >= 0, c.ttft_s)},
          {"replicas", opt_num(costed && req.mode == PlanMode::colocated, c.replicas)},
          {"prefill_fraction", opt_num(costed && req.mode == PlanMode::colocated, c.prefill_fraction)},
          {"pools", pools}};
}

}  // namespace

json plan_json(const PlanRequest& req, const PlanResult& r) {
  const bool mixed = req.mode != PlanMode::phase;
  json j;
  j["schema_version"] = 2;
  j["model"] = req.base.model.name;
  j["mode"] = to_string(req.mode);
  j["phase"] = mixed ? json(nullptr) : json(to_string(req.base.deployment.phase));
  j["target_tokens_per_s"] = req.target_tokens_per_s;
  j["target_tokens"] = !mixed && req.base.deployment.phase == Phase::prefill ? "input" : "output";
  j["input_tokens"] = mixed ? json(req.input_tokens) : json(nullptr);
  j["output_tokens"] = mixed ? json(req.output_tokens) : json(nullptr);
  j["max_tpot_s"] = opt_num(req.max_tpot_s > 0, req.max_tpot_s);
  j["max_ttft_s"] = opt_num(req.max_ttft_s > 0, req.max_ttft_s);
  j["sampling"] = {{"steps", req.sample_steps},
                   {"layers", req.sample_layers},
                   {"tokens_per_rank", req.sample_tokens_per_rank},
                   {"routing_samples", r.routing_samples},
                   {"capped_samples", r.capped_samples},
                   {"p99", plan_sampling_note(req, r)}};
  j["prices"] = json::array();
  for (const auto& h : req.hardware)
    j["prices"].push_back({{"hardware", h.name}, {"usd_per_hour", h.usd_per_hour}, {"source", h.price_source},
                           {"date", h.price_date.empty() ? json(nullptr) : json(h.price_date)}});
  j["best"] = json::array();
  for (const auto& c : r.best) j["best"].push_back(choice_json(req, r, c));
  j["best_per_setup"] = json::array();
  for (const auto& per : r.best_per_setup) {
    json a = json::array();
    for (const auto& c : per) a.push_back(choice_json(req, r, c));
    j["best_per_setup"].push_back(a);
  }
  j["cheapest"] = choice_json(req, r, r.cheapest);
  j["candidates"] = json::array();
  for (const auto& c : r.candidates) j["candidates"].push_back(candidate_json(req, c));
  return j;
}

HtmlExtras plan_report_extras(const PlanRequest& req, const PlanResult& r) {
  HtmlExtras e;
  const bool mixed = req.mode != PlanMode::phase;
  e.title = "plan for " + req.base.model.name;
  e.notes.push_back(mode_text(req) + ", target " + target_text(req) + limits_text(req) + "; " +
                    std::to_string(r.candidates.size()) + " candidates.");
  e.notes.push_back(plan_sampling_note(req, r));
  std::string prices = "Prices per device-hour: ";
  for (size_t h = 0; h < req.hardware.size(); ++h) prices += (h ? "; " : "") + price_text(req.hardware[h]);
  e.notes.push_back(prices + ".");
  e.table_title = "Cheapest setup per hardware";
  e.table.push_back({"hardware", "meets", "setup (router)", "pool", "devices x replicas", "layout", "batch/dev",
                     "latency p99 (ms)", "tokens/s per device", "USD/hour", "USD/M tokens"});
  std::vector<std::pair<std::string, int>> drawn;  // (series, candidate) whose batch line is drawn
  for (const auto& c : r.best) {
    if (c.setup < 0) {
      e.table.push_back({c.hardware, "no", "-", "-", "-", "-", "-", "-", "-", "-", c.reason});
      continue;
    }
    for (int i : {c.prefill, c.decode}) {
      if (i < 0) continue;
      const PlanCandidate& k = r.candidates[size_t(i)];
      const int replicas = req.mode == PlanMode::colocated ? c.replicas : k.replicas;
      e.table.push_back({c.hardware, c.meets ? "yes" : "no (nearest)", setup_label(req, k.setup), to_string(k.phase),
                         std::to_string(k.devices) + " x " + std::to_string(replicas), layout(k),
                         std::to_string(k.batch_per_device), fmt("%.1f", k.latency_p99_s * 1e3),
                         fmt("%.1f", k.tokens_per_s_per_device), fmt("%.0f", c.usd_per_hour),
                         fmt("%.4f", c.usd_per_million_tokens)});
      drawn.push_back({k.hardware + " " + to_string(k.phase) + " " + req.base.setups[size_t(k.setup)].name + ", " +
                           std::to_string(k.devices) + " devices " + layout(k), i});
    }
  }
  // Throughput against batch: the batch search at each chosen pool's hardware, setup, phase and layout.
  for (const auto& [series, i] : drawn) {
    const PlanCandidate& k = r.candidates[size_t(i)];
    for (const auto& c : r.candidates)
      if (c.rejected.empty() && c.hardware == k.hardware && c.phase == k.phase && c.setup == k.setup &&
          c.devices == k.devices && c.attention_tp == k.attention_tp && c.expert_tp == k.expert_tp)
        e.batch_series.push_back({series, double(c.tokens_per_step), c.tokens_per_s, c.step_p99_s});
  }
  e.batch_caption = "The planner's batch search at the layout of each cheapest pool (one replica; tokens/s and p99 "
                    "step time at the p99 step). Batch = tokens per step.";
  e.batch_missing = "Not drawn: no hardware has a costed pool.";
  for (const auto& c : r.candidates) {
    if (!c.rejected.empty()) continue;
    const std::string hw = mixed ? c.hardware + " " + to_string(c.phase) : c.hardware;
    e.pareto.push_back({req.base.setups[size_t(c.setup)].name + " " + layout(c) + " batch " + std::to_string(c.batch_per_device),
                        hw, c.devices, c.tokens_per_s_per_device, c.latency_p99_s, c.on_frontier});
  }
  e.pareto_caption = "Every costed candidate (latency at the p99 step: TPOT at decode, TTFT at prefill), coloured by " +
                     std::string(mixed ? "hardware and phase" : "hardware") + "; the frontier is per colour.";
  e.pareto_missing = "Not drawn: every candidate was rejected (precision, memory or placement).";
  return e;
}

}  // namespace moesim::cli
