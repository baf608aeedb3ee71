#include "report/throughput_report.hpp"

#include <cstdio>

namespace moesim {

namespace {

using nlohmann::ordered_json;

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

std::string fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double gib(double b) { return b / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

std::vector<std::pair<std::string, double>> throughput_figures(const ThroughputResult& t, Phase phase) {
  const auto& b = t.breakdown;
  std::vector<std::pair<std::string, double>> f = {
      {"step_time_s", t.step_s.mean},
      {"step_time_p99_s", t.step_s.p99},
      {"tokens_per_step", t.tokens_per_step},
      {"output_tokens_per_step", t.output_tokens_per_step},
      {"tokens_per_s", t.tokens_per_s},
      {"tokens_per_s_per_device", t.tokens_per_s_per_device},
  };
  f.push_back({"tpot_s", t.tpot_s});  // decode only (0 at prefill)
  f.push_back({"ttft_s", t.ttft_s});  // prefill only (0 at decode)
  const std::vector<std::pair<std::string, double>> rest = {
      {"mfu", t.mfu},
      {"mbu", t.mbu},
      {"imbalance_fraction", t.imbalance_fraction},
      {"usd_per_hour", t.usd_per_hour},
      {"usd_per_million_tokens", t.usd_per_million_tokens},
      {"attention_s", b.attention_s},
      {"dense_layers_s", b.dense_layers_s},
      {"shared_experts_s", b.shared_experts_s},
      {"routed_experts_s", b.routed_experts_s},
      {"tp_comm_s", b.tp_comm_s},
      {"dispatch_s", b.dispatch_s},
      {"combine_s", b.combine_s},
      {"exposed_comm_s", b.exposed_comm_s},
      {"hidden_comm_s", b.hidden_comm_s},
      {"mtp_s", b.mtp_s},
      {"lm_head_s", b.lm_head_s},
      {"overhead_s", b.overhead_s},
      {"imbalance_s", b.imbalance_s},
      {"dispatch_per_layer_s", t.dispatch_per_layer_s},
      {"combine_per_layer_s", t.combine_per_layer_s},
      {"memory_weights_bytes", t.memory.weights},
      {"memory_kv_cache_bytes", t.memory.kv_cache},
      {"memory_activations_bytes", t.memory.activations},
      {"memory_total_bytes", t.memory.total()},
      {"memory_capacity_bytes", t.memory.capacity},
      {"max_batch", double(t.memory.max_batch)},
  };
  f.insert(f.end(), rest.begin(), rest.end());
  // The per-device throughput again under its phase's name, for validation cases.
  f.push_back({phase == Phase::decode ? "decode_tokens_per_s_per_device" : "prefill_tokens_per_s_per_device",
               t.tokens_per_s_per_device});
  return f;
}

ordered_json throughput_json(const ThroughputResult& t, Phase phase) {
  ordered_json j;
  for (const auto& [k, v] : throughput_figures(t, phase)) j[k] = v;
  j["step_time_distribution_s"] = {{"mean", t.step_s.mean}, {"p50", t.step_s.p50}, {"p99", t.step_s.p99}, {"max", t.step_s.max}};
  return j;
}

void write_throughput_table(const std::vector<SetupRef>& refs, std::ostream& os) {
  const ScenarioSpec& first = refs[0].scenario->scenario;
  const bool decode = first.deployment.phase == Phase::decode;
  size_t col_w = 16;
  for (const auto& r : refs) col_w = std::max(col_w, r.label.size() + 2);
  os << "\nthroughput on " << first.cluster.devices << " x " << first.hardware.name << " (" << to_string(first.deployment.phase)
     << ", " << first.run.tokens_per_step << " tokens per step, context " << first.deployment.context_length << ")\n";
  os << pad("", 32);
  for (const auto& r : refs) os << pad(r.label, col_w);
  if (refs.size() > 1) os << pad(refs[1].label + "/" + refs[0].label, 14);
  os << "\n";
  struct Row { const char* label; double (*get)(const ThroughputResult&); const char* fmt; double scale; };
  const Row rows[] = {
      {"step time, mean (ms)", [](const ThroughputResult& t) { return t.step_s.mean; }, "%.3f", 1e3},
      {"step time, p99 (ms)", [](const ThroughputResult& t) { return t.step_s.p99; }, "%.3f", 1e3},
      {decode ? "TPOT (ms)" : "TTFT (ms)", [](const ThroughputResult& t) { return t.tpot_s > 0 ? t.tpot_s : t.ttft_s; }, "%.3f", 1e3},
      {"tokens/s, total", [](const ThroughputResult& t) { return t.tokens_per_s; }, "%.0f", 1},
      {"tokens/s per device", [](const ThroughputResult& t) { return t.tokens_per_s_per_device; }, "%.1f", 1},
      {"MFU", [](const ThroughputResult& t) { return t.mfu; }, "%.1f%%", 100},
      {"memory-bandwidth utilisation", [](const ThroughputResult& t) { return t.mbu; }, "%.1f%%", 100},
      {"USD per million tokens", [](const ThroughputResult& t) { return t.usd_per_million_tokens; }, "%.4f", 1},
      {"  attention (ms)", [](const ThroughputResult& t) { return t.breakdown.attention_s; }, "%.3f", 1e3},
      {"  dense layers (ms)", [](const ThroughputResult& t) { return t.breakdown.dense_layers_s; }, "%.3f", 1e3},
      {"  shared experts (ms)", [](const ThroughputResult& t) { return t.breakdown.shared_experts_s; }, "%.3f", 1e3},
      {"  routed experts (ms)", [](const ThroughputResult& t) { return t.breakdown.routed_experts_s; }, "%.3f", 1e3},
      {"  TP all-reduce (ms)", [](const ThroughputResult& t) { return t.breakdown.tp_comm_s; }, "%.3f", 1e3},
      {"  dispatch (ms)", [](const ThroughputResult& t) { return t.breakdown.dispatch_s; }, "%.3f", 1e3},
      {"  combine (ms)", [](const ThroughputResult& t) { return t.breakdown.combine_s; }, "%.3f", 1e3},
      {"  comm exposed (ms)", [](const ThroughputResult& t) { return t.breakdown.exposed_comm_s; }, "%.3f", 1e3},
      {"  comm hidden (ms)", [](const ThroughputResult& t) { return t.breakdown.hidden_comm_s; }, "%.3f", 1e3},
      {"  MTP, LM head, overhead (ms)", [](const ThroughputResult& t) { return t.breakdown.mtp_s + t.breakdown.lm_head_s + t.breakdown.overhead_s; }, "%.3f", 1e3},
      {"  lost to imbalance (ms)", [](const ThroughputResult& t) { return t.breakdown.imbalance_s; }, "%.3f", 1e3},
      {"memory per device (GiB)", [](const ThroughputResult& t) { return gib(t.memory.total()); }, "%.1f", 1},
      {"  of which KV cache (GiB)", [](const ThroughputResult& t) { return gib(t.memory.kv_cache); }, "%.1f", 1},
      {decode ? "largest batch that fits (seqs)" : "largest batch that fits (tokens)", [](const ThroughputResult& t) { return double(t.memory.max_batch); }, "%.0f", 1},
  };
  for (const Row& row : rows) {
    os << pad(row.label, 32);
    for (const auto& r : refs) os << pad(fmt(row.fmt, row.get(r.setup->throughput) * row.scale), col_w);
    if (refs.size() > 1) {
      const double a = row.get(refs[0].setup->throughput), b = row.get(refs[1].setup->throughput);
      os << pad(a == 0.0 ? "-" : fmt("%.3f", b / a), 14);
    }
    os << "\n";
  }
}

}  // namespace moesim
