// The roofline cost model: every kernel lasts max(FLOPs / achievable FLOP/s, bytes / achievable B/s);
// all-to-all transfers last a fixed latency plus bytes over the achievable link bandwidth, intra-node
// and inter-node links working in parallel. Achievable = nominal x the hardware's calibrated efficiency.
#include "cost/all_to_all.hpp"
#include "cost/model_math.hpp"
#include "moesim/cost.hpp"
#include "moesim/error.hpp"

#include <algorithm>
#include <cmath>

namespace moesim {

namespace {

using namespace cost;

double roofline(double flops, double flops_per_s, double bytes, double bytes_per_s) {
  return std::max(flops_per_s > 0 ? flops / flops_per_s : 0.0, bytes_per_s > 0 ? bytes / bytes_per_s : 0.0);
}

class RooflineCost : public CostModel {
 public:
  explicit RooflineCost(const CostInput& in) : in_(in), m_(in_.model), hw_(in_.hardware), dep_(in_.deployment) {
    tokens_rank_ = double(in.tokens_per_step) / dep_.attention.dp;
    seqs_rank_ = dep_.phase == Phase::decode ? tokens_rank_ / (1 + dep_.mtp_tokens)
                                             : tokens_rank_ / std::max(1, dep_.context_length);
    bw_mem_ = hw_.memory_bandwidth_bytes_per_s * hw_.eff.memory.value;
  }

  LayerCost moe_layer(const BatchLoad& load, const Placement& placement) const override;
  FixedCost fixed() const override;
  MemoryFootprint memory(const Placement& placement) const override;

 private:
  // FLOP/s of the GEMM precision the deployment uses (W8A8 -> int8, FP8 -> fp8, else bf16).
  double gemm_peak() const {
    if (dep_.weights == DType::int8 && dep_.activations == DType::int8 && hw_.flops_int8 > 0) return hw_.flops_int8;
    if ((dep_.weights == DType::fp8 || dep_.activations == DType::fp8) && hw_.flops_fp8 > 0) return hw_.flops_fp8;
    return hw_.flops_bf16;
  }
  double gemm_s(double flops, double bytes, const Calibrated& eff) const {
    return roofline(flops, gemm_peak() * eff.value, bytes, bw_mem_);
  }
  double attention_s() const;
  double all_reduce_s(double bytes, int ranks) const;
  void all_to_all(const BatchLoad& load, LayerCost& c, std::vector<double>& comm_s) const;
  double act_bytes() const { return bytes_of(dep_.activations == DType::int8 ? DType::bf16 : dep_.activations); }

  CostInput in_;
  const ModelSpec& m_;
  const HardwareSpec& hw_;
  const DeploymentSpec& dep_;
  double tokens_rank_ = 0;  // tokens one attention replica (dp rank) processes per step
  double seqs_rank_ = 0;    // sequences one attention replica holds
  double bw_mem_ = 0;       // achievable HBM bytes/s
};

// Attention of one block on one device: projections (GEMM roofline) then the attention core (compute on
// bf16 tensor cores vs. streaming the KV cache at decode).
double RooflineCost::attention_s() const {
  const int tp = dep_.attention.tp;
  const double P = attention_params(m_);
  const double proj_flops = 2.0 * P * tokens_rank_ / tp;
  const double proj_bytes = P * bytes_of(dep_.weights) / tp + 2.0 * tokens_rank_ * m_.hidden * act_bytes() / tp;
  const double kvb = kv_bytes_per_token(m_, dep_.kv_cache) / kv_split(m_, tp);
  double core_flops, core_bytes;
  if (dep_.phase == Phase::decode) {
    core_flops = tokens_rank_ * attention_core_flops(m_, dep_.context_length, Phase::decode) / tp;
    core_bytes = seqs_rank_ * dep_.context_length * kvb;  // every sequence reads its whole cache once
  } else {
    const double keys = (dep_.context_length + 1) / 2.0;  // causal: query i sees i keys, mean (L+1)/2
    core_flops = tokens_rank_ * attention_core_flops(m_, keys, Phase::prefill) / tp;
    core_bytes = tokens_rank_ * kvb;  // writes the new cache; tiles are re-read from on-chip memory
  }
  return gemm_s(proj_flops, proj_bytes, hw_.eff.gemm) +
         roofline(core_flops, hw_.flops_bf16 * hw_.eff.attention.value, core_bytes, bw_mem_);
}

// Ring all-reduce over `ranks` devices of one node: 2 (n-1)/n of the bytes cross each link, in 2 (n-1) hops.
double RooflineCost::all_reduce_s(double bytes, int ranks) const {
  if (ranks <= 1) return 0.0;
  const double bw = hw_.scale_up.bandwidth_bytes_per_s * hw_.eff.scale_up.value;
  return 2.0 * (ranks - 1) / ranks * bytes / bw + 2.0 * (ranks - 1) * hw_.scale_up.latency_s;
}

// Dispatch and combine for every expert-parallel rank: the fixed latency plus the larger of the
// rank's intra-node and inter-node transfers (both links run at once). With two micro-batches every
// transfer is issued twice, half the bytes each time, so the latency is paid twice.
void RooflineCost::all_to_all(const BatchLoad& load, LayerCost& c, std::vector<double>& comm_s) const {
  const int R = static_cast<int>(load.device_assignments.size());
  const int etp = dep_.experts.tp;
  const bool ll = dep_.all_to_all == AllToAll::low_latency;
  const auto copies = all_to_all_copies(load, std::max(1, in_.devices_per_node / etp), dep_.all_to_all);
  // FP8 payloads carry one fp32 scale per 128 channels (DeepEP / DeepGEMM block quantisation).
  const double scale_bytes = dep_.dispatch == DType::fp8 ? 4.0 * std::ceil(m_.hidden / 128.0) : 0.0;
  const double disp_token = m_.hidden * bytes_of(dep_.dispatch) + scale_bytes;
  const double comb_token = m_.hidden * bytes_of(dep_.combine);
  const double bw_in = hw_.scale_up.bandwidth_bytes_per_s *
                       (ll ? hw_.eff.scale_up_low_latency.value : hw_.eff.scale_up.value);
  const double bw_out = hw_.scale_out.bandwidth_bytes_per_s * hw_.eff.scale_out.value;
  const double lat = hw_.eff.all_to_all_latency.value * (dep_.overlap ? 2.0 : 1.0);
  comm_s.assign(R, 0.0);
  for (int r = 0; r < R; ++r) {
    // With expert tensor parallelism each of the rank's etp devices gets (and returns) every token.
    const double in = copies[r].intra * etp, out = copies[r].inter * etp;
    const auto transfer = [&](double per_token) {
      return lat + std::max(bw_in > 0 ? in * per_token / bw_in : 0.0, bw_out > 0 ? out * per_token / bw_out : 0.0);
    };
    const double d = transfer(disp_token), k = transfer(comb_token);
    c.dispatch_s += d / R;
    c.combine_s += k / R;
    comm_s[r] = d + k;
  }
}

LayerCost RooflineCost::moe_layer(const BatchLoad& load, const Placement& placement) const {
  LayerCost c;
  const int R = static_cast<int>(load.device_assignments.size());
  const int etp = dep_.experts.tp;
  const double T = double(in_.tokens_per_step);
  c.attention_s = attention_s();
  c.overhead_s = hw_.eff.layer_overhead.value;
  // Shared experts: each group of shared_tp devices holds one copy split shared_tp ways and serves
  // shared_tp / devices of the tokens, so a device does 2 P T / devices FLOPs whatever shared_tp is.
  const double Psh = shared_params(m_);
  c.shared_s = Psh > 0 ? gemm_s(2.0 * Psh * T / in_.devices, Psh * bytes_of(dep_.weights) / dep_.shared_tp, hw_.eff.gemm) : 0;
  c.tp_comm_s = all_reduce_s(tokens_rank_ * m_.hidden * 2.0, dep_.attention.tp) +
                (Psh > 0 ? all_reduce_s(T * dep_.shared_tp / in_.devices * m_.hidden * 2.0, dep_.shared_tp) : 0.0);
  std::vector<double> comm_s;
  all_to_all(load, c, comm_s);
  const double Pe = expert_params(m_);
  double sum_s = 0, routed_sum = 0, exposed_sum = 0;
  for (int r = 0; r < R; ++r) {
    const double n = double(load.device_assignments[r]);
    const double flops = 2.0 * Pe * n / etp;
    const double bytes = (load.distinct_experts[r] * Pe * bytes_of(dep_.weights) + 2.0 * n * m_.hidden * act_bytes()) / etp;
    const double routed = gemm_s(flops, bytes, hw_.eff.grouped_gemm);
    const double compute = c.attention_s + c.shared_s + routed + c.tp_comm_s + c.overhead_s;
    const double total = dep_.overlap ? std::max(compute, comm_s[r]) : compute + comm_s[r];
    routed_sum += routed;
    exposed_sum += total - compute;
    sum_s += total;
    c.slowest_s = std::max(c.slowest_s, total);
    c.flops += flops * etp;
    c.bytes += bytes * etp;
  }
  c.routed_s = routed_sum / R;
  c.exposed_comm_s = exposed_sum / R;
  c.mean_device_s = sum_s / R;
  const int tp = dep_.attention.tp;
  c.flops += in_.devices * (2.0 * attention_params(m_) * tokens_rank_ / tp) + 2.0 * Psh * T;
  c.flops += double(in_.tokens_per_step) * attention_core_flops(
      m_, dep_.phase == Phase::decode ? dep_.context_length : (dep_.context_length + 1) / 2.0, dep_.phase);
  c.bytes += in_.devices * (attention_params(m_) / tp + Psh / dep_.shared_tp) * bytes_of(dep_.weights);
  (void)placement;
  return c;
}

FixedCost RooflineCost::fixed() const {
  FixedCost f;
  const int tp = dep_.attention.tp;
  const int dense_blocks = m_.is_moe() ? m_.first_dense_layers : m_.num_layers;
  const double Pd = dense_ffn_params(m_);
  const double ffn_s = gemm_s(2.0 * Pd * tokens_rank_ / tp, Pd * bytes_of(dep_.weights) / tp, hw_.eff.gemm);
  const double block_s = attention_s() + ffn_s + all_reduce_s(tokens_rank_ * m_.hidden * 2.0, tp) * 2.0 +
                         hw_.eff.layer_overhead.value;
  f.dense_layers_s = dense_blocks * block_s;
  // LM head in bf16 over the tokens that need logits: every token at decode, the last one per prompt at prefill.
  const double out_tokens = dep_.phase == Phase::decode ? tokens_rank_ : seqs_rank_;
  const double Pv = embedding_params(m_);
  f.lm_head_s = roofline(2.0 * Pv * out_tokens / tp, hw_.flops_bf16 * hw_.eff.gemm.value, Pv * 2.0 / tp, bw_mem_);
  f.overhead_s = hw_.eff.step_overhead.value;
  f.flops = in_.devices * (dense_blocks * 2.0 * (Pd + attention_params(m_)) * tokens_rank_ / tp + 2.0 * Pv * out_tokens / tp);
  f.bytes = in_.devices * (dense_blocks * (Pd + attention_params(m_)) * bytes_of(dep_.weights) + Pv * 2.0) / tp;
  return f;
}

MemoryFootprint RooflineCost::memory(const Placement& placement) const {
  MemoryFootprint mem;
  const int tp = dep_.attention.tp;
  const double wb = bytes_of(dep_.weights);
  int max_slots = 0;
  if (m_.is_moe()) {
    std::vector<int> slots(placement.num_devices, 0);
    for (int32_t d : placement.phy2dev) ++slots[d];
    max_slots = *std::max_element(slots.begin(), slots.end());
  }
  const int dense_blocks = m_.is_moe() ? m_.first_dense_layers : m_.num_layers;
  mem.weights = (m_.num_layers * attention_params(m_) + dense_blocks * dense_ffn_params(m_)) * wb / tp +
                m_.moe_layers() * (shared_params(m_) * wb / dep_.shared_tp + max_slots * expert_params(m_) * wb / dep_.experts.tp) +
                2.0 * embedding_params(m_) * 2.0 / tp;  // embedding and LM head kept in bf16, vocab-parallel
  const double kv_token = kv_bytes_per_token(m_, dep_.kv_cache) / kv_split(m_, tp) * m_.num_layers;
  // Live activations of one block per token: about ten hidden-sized bf16 buffers (input, residual, norm,
  // q/k/v, attention output, dispatch and combine buffers) plus the FFN's gate and up outputs.
  const double ffn_width = std::max({double(m_.dense_intermediate) / tp, double(m_.moe_intermediate) * m_.top_k,
                                     double(m_.shared_intermediate) * m_.num_shared_experts / dep_.shared_tp});
  mem.activations_per_token = (10.0 * m_.hidden + 2.0 * ffn_width) * 2.0;
  mem.activations = tokens_rank_ * mem.activations_per_token;
  mem.capacity = hw_.memory_bytes;
  if (dep_.phase == Phase::decode) {
    mem.kv_cache = seqs_rank_ * (dep_.context_length + 1 + dep_.mtp_tokens) * kv_token;
    mem.kv_per_sequence = (dep_.context_length + 1 + dep_.mtp_tokens) * kv_token + (1 + dep_.mtp_tokens) * mem.activations_per_token;
    const double room = mem.capacity - mem.weights;
    mem.max_batch = room > 0 ? static_cast<int64_t>(std::floor(room / mem.kv_per_sequence)) * dep_.attention.dp : 0;
  } else {
    mem.kv_cache = tokens_rank_ * kv_token;
    const double per_token = kv_token + mem.activations_per_token;
    const double room = mem.capacity - mem.weights;
    mem.max_batch = room > 0 ? static_cast<int64_t>(std::floor(room / per_token)) * dep_.attention.dp : 0;
  }
  return mem;
}

}  // namespace

void register_builtin_cost_models(CostModelRegistry& reg) {
  reg.add("roofline",
          "per-kernel roofline (FLOPs vs bytes) with calibrated efficiencies per device and kernel kind; "
          "all-to-all = latency + bytes / link bandwidth from the routing's per-pair traffic (DeepEP-style)",
          [](const CostInput& in) { return std::make_unique<RooflineCost>(in); });
}

}  // namespace moesim
