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

// What a calibrated value makes of the nominal figures, for `list hardware --detail`.
std::string reach(const HardwareSpec& h, Calibrated Efficiencies::*m) {
  const Efficiencies& e = h.eff;
  const double v = (e.*m).value;
  if (m == &Efficiencies::gemm) return fmt("%.0f TFLOP/s BF16", h.flops_bf16 * v / 1e12);
  if (m == &Efficiencies::gemm_8bit)
    return fmt("%.0f TFLOP/s FP8, ", h.flops_fp8 * v / 1e12) + fmt("%.0f TOP/s INT8", h.flops_int8 * v / 1e12);
  if (m == &Efficiencies::grouped_gemm) return fmt("x%.2f of the dense GEMM rates", v);
  if (m == &Efficiencies::attention) return fmt("%.0f TFLOP/s", h.flops_bf16 * v / 1e12);
  if (m == &Efficiencies::memory) return fmt("%.0f GB/s", h.memory_bandwidth_bytes_per_s * v / 1e9);
  if (m == &Efficiencies::scale_up) return fmt("%.0f GB/s", h.scale_up.bandwidth_bytes_per_s * v / 1e9);
  if (m == &Efficiencies::scale_out) return fmt("%.1f GB/s", h.scale_out.bandwidth_bytes_per_s * v / 1e9);
  if (m == &Efficiencies::scale_up_low_latency) return fmt("%.0f GB/s", h.scale_up.bandwidth_bytes_per_s * v / 1e9);
  if (m == &Efficiencies::comm_compute_share) return fmt("%.0f%% of compute", v * 100);
  if (m == &Efficiencies::kernel_latency) return fmt("%.1f us per kernel", v * 1e6);
  if (m == &Efficiencies::step_overhead) return fmt("%.1f us per step", v * 1e6);
  return fmt("%.1f us", v * 1e6);  // all_to_all_latency, collective_latency
}

}  // namespace

std::vector<std::pair<std::string, double>> throughput_figures(const ThroughputResult& t, Phase phase) {
  const auto& b = t.breakdown;
  return {
      {"step_time_s", t.step_s.mean},
      {"step_time_p99_s", t.step_s.p99},
      {"tokens_per_step", t.tokens_per_step},
      {"output_tokens_per_step", t.output_tokens_per_step},
      {"tokens_per_s", t.tokens_per_s},
      {"tokens_per_s_per_device", t.tokens_per_s_per_device},
      {"tokens_per_s_per_node", t.tokens_per_s_per_node},
      {"tpot_s", t.tpot_s},  // decode only (0 otherwise)
      {"ttft_s", t.ttft_s},  // prefill only (0 otherwise)
      {"mfu", t.mfu},
      {"mbu", t.mbu},
      {"imbalance_fraction", t.imbalance_fraction},
      {"usd_per_hour", t.usd_per_hour},
      {"usd_per_million_tokens", t.usd_per_million_tokens},
      {"usd_per_million_input_tokens", t.usd_per_million_input_tokens},
      {"usd_per_million_output_tokens", t.usd_per_million_output_tokens},
      {"usd_per_trillion_training_tokens", t.usd_per_trillion_training_tokens},
      {"attention_s", b.attention_s},
      {"dense_layers_s", b.dense_layers_s},
      {"dense_attention_s", b.dense_attention_s},
      {"dense_ffn_s", b.dense_ffn_s},
      {"shared_experts_s", b.shared_experts_s},
      {"routed_experts_s", b.routed_experts_s},
      {"router_s", b.router_s},
      {"tp_comm_s", b.tp_comm_s},
      {"dispatch_s", b.dispatch_s},
      {"combine_s", b.combine_s},
      {"exposed_comm_s", b.exposed_comm_s},
      {"hidden_comm_s", b.hidden_comm_s},
      {"mtp_s", b.mtp_s},
      {"embedding_s", b.embedding_s},
      {"lm_head_s", b.lm_head_s},
      {"overhead_s", b.overhead_s},
      {"imbalance_s", b.imbalance_s},
      {"forward_s", b.forward_s},
      {"backward_s", b.backward_s},
      {"optimizer_s", b.optimizer_s},
      {"grad_sync_s", b.grad_sync_s},
      {"exposed_grad_sync_s", b.exposed_grad_sync_s},
      {"pipeline_bubble_s", b.pipeline_bubble_s},
      {"dispatch_per_layer_s", t.dispatch_per_layer_s},
      {"combine_per_layer_s", t.combine_per_layer_s},
      {"dispatch_scale_up_bytes_per_s", t.dispatch_scale_up_bytes_per_s},
      {"dispatch_scale_out_bytes_per_s", t.dispatch_scale_out_bytes_per_s},
      {"combine_scale_up_bytes_per_s", t.combine_scale_up_bytes_per_s},
      {"combine_scale_out_bytes_per_s", t.combine_scale_out_bytes_per_s},
      {"memory_weights_bytes", t.memory.weights},
      {"memory_kv_cache_bytes", t.memory.kv_cache},
      {"memory_activations_bytes", t.memory.activations},
      {"memory_gradients_bytes", t.memory.gradients},
      {"memory_optimizer_bytes", t.memory.optimizer},
      {"memory_total_bytes", t.memory.total()},
      {"memory_capacity_bytes", t.memory.capacity},
      {"max_batch", double(t.memory.max_batch)},
      // The per-device and per-node throughput again under the phase's name, for validation cases.
      {std::string(to_string(phase)) + "_tokens_per_s_per_device", t.tokens_per_s_per_device},
      {std::string(to_string(phase)) + "_tokens_per_s_per_node", t.tokens_per_s_per_node},
  };
}

ordered_json throughput_json(const ThroughputResult& t, Phase phase) {
  ordered_json j;
  for (const auto& [k, v] : throughput_figures(t, phase)) j[k] = v;
  j["step_time_distribution_s"] = {{"mean", t.step_s.mean}, {"p50", t.step_s.p50}, {"p99", t.step_s.p99}, {"max", t.step_s.max}};
  return j;
}

ordered_json hardware_json(const HardwareSpec& h) {
  const auto link = [](const Link& l) {
    return ordered_json{{"name", l.name}, {"bandwidth_bytes_per_s", l.bandwidth_bytes_per_s}, {"latency_s", l.latency_s}};
  };
  const auto cal = [](const Calibrated& c) { return ordered_json{{"value", c.value}, {"source", c.source}}; };
  const Efficiencies& e = h.eff;
  ordered_json j;
  j["name"] = h.name;
  j["description"] = h.description;
  j["source"] = h.source;
  j["nominal"] = {{"flops_bf16", h.flops_bf16}, {"flops_fp8", h.flops_fp8}, {"flops_int8", h.flops_int8},
                  {"memory_bytes", h.memory_bytes}, {"memory_bandwidth_bytes_per_s", h.memory_bandwidth_bytes_per_s},
                  {"devices_per_node", h.devices_per_node}, {"scale_up", link(h.scale_up)}, {"scale_out", link(h.scale_out)}};
  j["calibrated"] = ordered_json::object();
  for (const EfficiencyField& f : kEfficiencyFields) j["calibrated"][std::string(f.key)] = cal(e.*f.member);
  // What the cost model uses: nominal x calibrated.
  j["achievable"] = {{"gemm_bf16_flops", h.flops_bf16 * e.gemm.value},
                     {"gemm_fp8_flops", h.flops_fp8 * e.gemm_8bit.value},
                     {"gemm_int8_ops", h.flops_int8 * e.gemm_8bit.value},
                     {"attention_flops", h.flops_bf16 * e.attention.value},
                     {"memory_bytes_per_s", h.memory_bandwidth_bytes_per_s * e.memory.value},
                     {"scale_up_bytes_per_s", h.scale_up.bandwidth_bytes_per_s * e.scale_up.value},
                     {"scale_up_low_latency_bytes_per_s", h.scale_up.bandwidth_bytes_per_s * e.scale_up_low_latency.value},
                     {"scale_out_bytes_per_s", h.scale_out.bandwidth_bytes_per_s * e.scale_out.value}};
  j["price"] = {{"usd_per_hour", h.usd_per_hour}, {"source", h.price_source}, {"date", h.price_date}};
  return j;
}

ordered_json deployment_json(const DeploymentSpec& d) {
  ordered_json j;
  j["phase"] = to_string(d.phase);
  j["context_length"] = d.context_length;
  j["attention"] = {{"dp", d.attention.dp}, {"tp", d.attention.tp}};
  j["experts"] = {{"ep", d.experts.dp}, {"tp", d.experts.tp}};
  j["shared_experts"] = {{"tp", d.shared_tp}};
  j["dtypes"] = {{"weights", to_string(d.weights)}, {"activations", to_string(d.activations)},
                 {"kv_cache", to_string(d.kv_cache)}, {"dispatch", to_string(d.dispatch)}, {"combine", to_string(d.combine)}};
  j["overlap"] = d.overlap;
  j["all_to_all"] = to_string(d.all_to_all);
  j["mtp"] = {{"tokens", d.mtp_tokens}, {"acceptance", d.mtp_acceptance}};
  if (d.phase == Phase::training)
    j["training"] = {{"zero_shards", d.training.zero_shards}, {"recompute", to_string(d.training.recompute)},
                     {"pipeline_stages", d.training.pipeline_stages}, {"micro_batches", d.training.micro_batches}};
  return j;
}

void write_hardware_detail(const HardwareSpec& h, std::ostream& os) {
  const Efficiencies& e = h.eff;
  const auto link = [](const Link& l) {
    return l.name + ", " + fmt("%.0f GB/s per direction, ", l.bandwidth_bytes_per_s / 1e9) + fmt("%.2g us", l.latency_s * 1e6);
  };
  os << "\n" << h.name << ": " << h.description << "\n  source: " << h.source << "\n";
  os << "  nominal: BF16 " << fmt("%.1f", h.flops_bf16 / 1e12) << " TFLOP/s, FP8 " << fmt("%.0f", h.flops_fp8 / 1e12)
     << ", INT8 " << fmt("%.0f", h.flops_int8 / 1e12) << " TOP/s; memory " << fmt("%.2f", h.memory_bytes / 1e9) << " GB ("
     << fmt("%.2f", gib(h.memory_bytes)) << " GiB) at " << fmt("%.3g", h.memory_bandwidth_bytes_per_s / 1e12) << " TB/s; "
     << h.devices_per_node << " per node\n";
  os << "           scale-up " << link(h.scale_up) << "\n           scale-out " << link(h.scale_out) << "\n";
  os << "  calibrated (value -> what the model reaches; source):\n";
  for (const EfficiencyField& f : kEfficiencyFields) {
    const Calibrated& c = e.*f.member;
    os << "    " << pad(std::string(f.key), 21) << pad(fmt("%.4g", c.value), 9) << pad("-> " + reach(h, f.member), 34)
       << c.source << "\n";
  }
  os << "  price: " << fmt("$%.3f", h.usd_per_hour) << " per device-hour (" << h.price_date << "): " << h.price_source << "\n";
}

void write_throughput_table(const std::vector<SetupRef>& refs, std::ostream& os) {
  const ScenarioSpec& first = refs[0].scenario->scenario;
  const Phase phase = first.deployment.phase;
  const bool decode = phase == Phase::decode, training = phase == Phase::training;
  size_t col_w = 16;
  for (const auto& r : refs) col_w = std::max(col_w, r.label.size() + 2);
  const auto where = [](const ScenarioSpec& sc) {
    return std::to_string(sc.cluster.devices) + " x " + sc.hardware.name;
  };
  bool same_hardware = true;  // compare may put scenarios on different hardware side by side
  for (const auto& r : refs) same_hardware = same_hardware && where(r.scenario->scenario) == where(first);
  os << "\nthroughput" << (same_hardware ? " on " + where(first) : "") << " (" << to_string(phase) << ", "
     << first.run.tokens_per_step << " tokens per step" << (training ? " per micro-batch" : "") << ", context "
     << first.deployment.context_length << ")\n";
  os << pad("", 32);
  for (const auto& r : refs) os << pad(r.label, col_w);
  if (refs.size() > 1) os << pad(refs[1].label + "/" + refs[0].label, 14);
  os << "\n";
  if (!same_hardware) {
    os << pad("devices x hardware", 32);
    for (const auto& r : refs) os << pad(where(r.scenario->scenario), col_w);
    os << "\n";
  }
  using Get = double (*)(const ThroughputResult&);
  struct Row { const char* label; Get get; const char* fmt; double scale; };
  std::vector<Row> rows = {
      {"step time, mean (ms)", [](const ThroughputResult& t) { return t.step_s.mean; }, "%.3f", 1e3},
      {"step time, p99 (ms)", [](const ThroughputResult& t) { return t.step_s.p99; }, "%.3f", 1e3},
  };
  if (!training)
    rows.push_back({decode ? "TPOT (ms)" : "TTFT (ms)", [](const ThroughputResult& t) { return t.tpot_s > 0 ? t.tpot_s : t.ttft_s; }, "%.3f", 1e3});
  const std::vector<Row> common = {
      {"tokens/s, total", [](const ThroughputResult& t) { return t.tokens_per_s; }, "%.0f", 1},
      {"tokens/s per device", [](const ThroughputResult& t) { return t.tokens_per_s_per_device; }, "%.1f", 1},
      {"tokens/s per node", [](const ThroughputResult& t) { return t.tokens_per_s_per_node; }, "%.0f", 1},
      {"MFU", [](const ThroughputResult& t) { return t.mfu; }, "%.1f%%", 100},
      {"memory-bandwidth utilisation", [](const ThroughputResult& t) { return t.mbu; }, "%.1f%%", 100},
  };
  rows.insert(rows.end(), common.begin(), common.end());
  if (decode) rows.push_back({"USD per million output tokens", [](const ThroughputResult& t) { return t.usd_per_million_output_tokens; }, "%.4f", 1});
  else if (!training) rows.push_back({"USD per million input tokens", [](const ThroughputResult& t) { return t.usd_per_million_input_tokens; }, "%.4f", 1});
  else rows.push_back({"USD per trillion tokens", [](const ThroughputResult& t) { return t.usd_per_trillion_training_tokens; }, "%.0f", 1});
  const std::vector<Row> parts = {
      {"  attention (ms)", [](const ThroughputResult& t) { return t.breakdown.attention_s; }, "%.3f", 1e3},
      {"  dense attention (ms)", [](const ThroughputResult& t) { return t.breakdown.dense_attention_s; }, "%.3f", 1e3},
      {"  dense FFN (ms)", [](const ThroughputResult& t) { return t.breakdown.dense_ffn_s; }, "%.3f", 1e3},
      {"  shared experts (ms)", [](const ThroughputResult& t) { return t.breakdown.shared_experts_s; }, "%.3f", 1e3},
      {"  routed experts (ms)", [](const ThroughputResult& t) { return t.breakdown.routed_experts_s; }, "%.3f", 1e3},
      {"  router, norm, top-k (ms)", [](const ThroughputResult& t) { return t.breakdown.router_s; }, "%.3f", 1e3},
      {"  TP all-reduce (ms)", [](const ThroughputResult& t) { return t.breakdown.tp_comm_s; }, "%.3f", 1e3},
      {"  dispatch (ms)", [](const ThroughputResult& t) { return t.breakdown.dispatch_s; }, "%.3f", 1e3},
      {"  combine (ms)", [](const ThroughputResult& t) { return t.breakdown.combine_s; }, "%.3f", 1e3},
      {"  comm exposed (ms)", [](const ThroughputResult& t) { return t.breakdown.exposed_comm_s; }, "%.3f", 1e3},
      {"  comm hidden (ms)", [](const ThroughputResult& t) { return t.breakdown.hidden_comm_s; }, "%.3f", 1e3},
      {"  MTP (ms)", [](const ThroughputResult& t) { return t.breakdown.mtp_s; }, "%.3f", 1e3},
      {"  embedding, LM head (ms)", [](const ThroughputResult& t) { return t.breakdown.embedding_s + t.breakdown.lm_head_s; }, "%.3f", 1e3},
      {"  step overhead (ms)", [](const ThroughputResult& t) { return t.breakdown.overhead_s; }, "%.3f", 1e3},
      {"  lost to imbalance (ms)", [](const ThroughputResult& t) { return t.breakdown.imbalance_s; }, "%.3f", 1e3},
  };
  rows.insert(rows.end(), parts.begin(), parts.end());
  if (training) {
    const std::vector<Row> train = {
        {"  forward pass (ms)", [](const ThroughputResult& t) { return t.breakdown.forward_s; }, "%.3f", 1e3},
        {"  backward pass (ms)", [](const ThroughputResult& t) { return t.breakdown.backward_s; }, "%.3f", 1e3},
        {"  optimizer (ms)", [](const ThroughputResult& t) { return t.breakdown.optimizer_s; }, "%.3f", 1e3},
        {"  gradient sync, exposed (ms)", [](const ThroughputResult& t) { return t.breakdown.exposed_grad_sync_s; }, "%.3f", 1e3},
        {"  pipeline bubble (ms)", [](const ThroughputResult& t) { return t.breakdown.pipeline_bubble_s; }, "%.3f", 1e3},
    };
    rows.insert(rows.end(), train.begin(), train.end());
  }
  rows.push_back({"memory per device (GiB)", [](const ThroughputResult& t) { return gib(t.memory.total()); }, "%.1f", 1});
  rows.push_back({"  of which KV cache (GiB)", [](const ThroughputResult& t) { return gib(t.memory.kv_cache); }, "%.1f", 1});
  if (training)
    rows.push_back({"  of which optimizer (GiB)", [](const ThroughputResult& t) { return gib(t.memory.optimizer); }, "%.1f", 1});
  rows.push_back({decode ? "largest batch that fits (seqs)" : "largest batch that fits (tokens)",
                  [](const ThroughputResult& t) { return double(t.memory.max_batch); }, "%.0f", 1});
  for (const Row& row : rows) {
    os << pad(row.label, 32);
    for (const auto& r : refs) os << pad(fmt(row.fmt, row.get(r.setup->throughput) * row.scale), col_w);
    if (refs.size() > 1) {
      const double a = row.get(refs[0].setup->throughput), b = row.get(refs[1].setup->throughput);
      // A baseline that prints as zero gives no meaningful ratio (4.000 of two rounding residues).
      const bool zero = fmt(row.fmt, a * row.scale) == fmt(row.fmt, 0.0);
      os << pad(zero ? "-" : fmt("%.3f", b / a), 14);
    }
    os << "\n";
  }
}

}  // namespace moesim
