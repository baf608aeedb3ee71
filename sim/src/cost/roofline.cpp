// The roofline cost model: every kernel lasts max(FLOPs / achievable FLOP/s, bytes / achievable B/s)
// plus a fixed kernel latency (cost/work.hpp); all-to-all transfers last a fixed latency plus bytes over
// the achievable link bandwidth, intra-node and inter-node links working in parallel; two micro-batches
// overlap transfers with the other micro-batch's compute (cost/layer.hpp). Achievable = nominal x the
// hardware's calibrated efficiency.
#include "cost/layer.hpp"
#include "cost/memory.hpp"
#include "cost/model_math.hpp"
#include "cost/passes.hpp"
#include "cost/training.hpp"
#include "moesim/cost.hpp"

#include <algorithm>

namespace moesim {

namespace {

using namespace cost;

class RooflineCost : public CostModel {
 public:
  explicit RooflineCost(const CostInput& in) : in_(in), L_(in_), passes_(in_.deployment), same_(per_micro_batch(L_)) {}

  LayerCost moe_layer(const BatchLoad& load, const Placement& placement) const override;
  FixedCost fixed() const override;
  MemoryFootprint memory(const Placement& placement) const override { return footprint(L_, placement); }

 private:
  // Per expert-parallel rank: the tokens each of its physical experts received, per micro-batch.
  // [ranks][its active slots] tokens per micro-batch, into a per-thread buffer reused from call to call.
  const std::vector<std::vector<double>>& rank_slot_tokens(const BatchLoad& load, const Placement& placement) const;

  // One micro-batch's work that is the same on every device (everything but the routed experts), computed
  // once: moe_layer runs for every (step, layer) and must stay far cheaper than routing.
  struct Same {
    double t = 0;  // tokens per attention rank and micro-batch
    AttentionWork att;
    double att_ar = 0;
    Work router, shared;
    double shared_ar = 0;
  };
  static Same per_micro_batch(const Layout& L);

  CostInput in_;
  Layout L_;  // refers to in_
  Passes passes_;
  Same same_;
};

RooflineCost::Same RooflineCost::per_micro_batch(const Layout& L) {
  const DeploymentSpec& dep = L.dep;
  const double H = L.m.hidden;
  Same s;
  s.t = L.tokens_rank / L.micro_batches;
  s.att = attention_stage(L, s.t, L.seqs_rank / L.micro_batches);
  s.att_ar = all_reduce_s(L, s.t * H * 2.0, dep.attention.tp);
  if (!L.m.is_moe()) return s;
  s.router = moe_router(L, s.t);
  const double t_shared = L.tokens * dep.shared_tp / L.devices / L.micro_batches;
  s.shared = shared_experts(L, t_shared);
  s.shared_ar = s.shared.s > 0 ? all_reduce_s(L, t_shared * H * 2.0, dep.shared_tp) : 0.0;
  return s;
}

const std::vector<std::vector<double>>& RooflineCost::rank_slot_tokens(const BatchLoad& load,
                                                                       const Placement& placement) const {
  thread_local std::vector<std::vector<double>> slots;  // moe_layer runs per (step, layer) and per plan candidate
  slots.resize(load.device_assignments.size());
  for (auto& s : slots) s.clear();
  const double mb = L_.micro_batches;
  for (size_t q = 0; q < load.slot_tokens.size(); ++q)
    if (load.slot_tokens[q] > 0) slots[placement.phy2dev[q]].push_back(double(load.slot_tokens[q]) / mb);
  return slots;
}

LayerCost RooflineCost::moe_layer(const BatchLoad& load, const Placement& placement) const {
  const Layout& L = L_;
  const DeploymentSpec& dep = L.dep;
  const HardwareSpec& hw = L.hw;
  const int R = static_cast<int>(load.device_assignments.size());
  const int mb = L.micro_batches, etp = dep.experts.tp;
  const AttentionWork& att = same_.att;
  const double att_ar = same_.att_ar, shared_ar = same_.shared_ar;
  const Work &router = same_.router, &shared = same_.shared;
  // Transfers.
  const bool ll = dep.all_to_all == AllToAll::low_latency;
  const auto copies = all_to_all_copies(load, std::max(1, L.devices_per_node / etp), dep.all_to_all);
  const double bw_in = hw.scale_up.bandwidth_bytes_per_s * (ll ? hw.eff.scale_up_low_latency.value : hw.eff.scale_up.value);
  const double bw_out = hw.scale_out.bandwidth_bytes_per_s * hw.eff.scale_out.value;
  const double lat = hw.eff.all_to_all_latency.value;
  const double share = ll ? 0.0 : hw.eff.comm_compute_share.value;
  const double disp_b = token_copy_bytes(L.m.hidden, dep.dispatch), comb_b = token_copy_bytes(L.m.hidden, dep.combine);
  const double grad_b = token_copy_bytes(L.m.hidden, DType::bf16);  // backward transfers carry bf16 gradients
  const auto& slots = rank_slot_tokens(load, placement);

  LayerCost c;
  double sum_s = 0, exposed = 0, fwd_sum = 0;
  for (int r = 0; r < R; ++r) {
    const LinkCopies dc = device_copies(copies[r], etp, dep.attention.tp);
    const auto transfer = [&](double bytes_per_copy) {
      return lat + std::max(bw_in > 0 ? dc.intra * bytes_per_copy / mb / bw_in : 0.0,
                            bw_out > 0 ? dc.inter * bytes_per_copy / mb / bw_out : 0.0);
    };
    const Work routed = routed_experts(L, slots[r]);
    const double moe_fwd = router.s + shared.s + routed.s;
    const StageTimes fwd{att.total().s + att_ar, moe_fwd + shared_ar, transfer(disp_b), transfer(comb_b)};
    StageTimes bwd{};  // training only
    if (passes_.training) {
      const double grad = transfer(grad_b);
      bwd = {passes_.backward(att.other.s) + passes_.backward_core(att.core.s) + passes_.recomputed(att.recomputable.s) +
                 att_ar,
             passes_.backward(moe_fwd) + shared_ar, grad, grad};
    }
    const double t_fwd = block_wall_s(fwd, mb, share);
    const double total = t_fwd + (passes_.training ? block_wall_s(bwd, mb, share) : 0.0);
    const double compute = mb * (fwd.attention + fwd.moe + (bwd.attention + bwd.moe));  // bwd: 0 unless training
    c.routed_s += mb * passes_.all(routed.s) / R;
    c.dispatch_s += mb * (fwd.dispatch + bwd.dispatch) / R;
    c.dispatch_forward_s += mb * fwd.dispatch / R;
    c.combine_forward_s += mb * fwd.combine / R;
    c.dispatch_scale_up_bytes += dc.intra * disp_b / R;
    c.dispatch_scale_out_bytes += dc.inter * disp_b / R;
    c.combine_scale_up_bytes += dc.intra * comb_b / R;
    c.combine_scale_out_bytes += dc.inter * comb_b / R;
    c.combine_s += mb * (fwd.combine + bwd.combine) / R;
    exposed += total - compute;
    sum_s += total;
    fwd_sum += t_fwd;
    c.slowest_s = std::max(c.slowest_s, total);
    // `routed` is one micro-batch's work (slots hold tokens / mb): every micro-batch does it.
    c.flops += mb * passes_.model_flops(routed.flops, 0) * etp;
    c.bytes += mb * (routed.bytes + passes_.backward(routed.bytes)) * etp;
  }
  c.attention_s = mb * (passes_.all(att.other.s) + att.core.s + passes_.backward_core(att.core.s) +
                        passes_.recomputed(att.recomputable.s));
  c.shared_s = mb * passes_.all(shared.s);
  c.overhead_s = mb * passes_.all(router.s);
  c.tp_comm_s = mb * (att_ar + shared_ar) * (passes_.training ? 2.0 : 1.0);
  c.exposed_comm_s = exposed / R;
  c.mean_device_s = sum_s / R;
  c.forward_s = fwd_sum / R;
  // The work every device does alike, all devices together.
  const Work same = att.other + att.core + router + shared;
  c.flops += L.devices * mb * passes_.model_flops(same.flops, att.core.flops);
  c.bytes += L.devices * mb * (same.bytes + passes_.backward(same.bytes));
  return c;
}

FixedCost RooflineCost::fixed() const {
  const Layout& L = L_;
  const DeploymentSpec& dep = L.dep;
  const int mb = L.micro_batches, tp = dep.attention.tp;
  const double n = dense_blocks(L.m), t = same_.t, H = L.m.hidden;
  FixedCost f;
  const AttentionWork& att = same_.att;
  const double ar = all_reduce_s(L, t * H * 2.0, tp);
  const Work ffn = dense_ffn(L, t);
  const double ar_k = passes_.training ? 2.0 : 1.0;
  f.dense_attention_s = n * mb * (passes_.all(att.other.s) + att.core.s + passes_.backward_core(att.core.s) +
                                  passes_.recomputed(att.recomputable.s) + ar * ar_k);
  f.dense_ffn_s = n * mb * (passes_.all(ffn.s) + ar * ar_k);
  // Embedding: every token; LM head: every token at decode (drafts included) and in training (the loss),
  // the last token of each prompt at prefill. Both once per step, vocab-parallel over the attention TP group.
  const double out_tokens = dep.phase == Phase::prefill ? L.seqs_rank : L.tokens_rank;
  const Work emb = embedding(L, L.tokens_rank), head = lm_head(L, out_tokens);
  f.embedding_s = emb.s * (passes_.training ? 1.0 + kBackwardFactor : 1.0);
  f.lm_head_s = passes_.all(head.s);
  f.overhead_s = L.hw.eff.step_overhead.value;
  f.forward_s = n * mb * (att.total().s + ar + ffn.s + ar) + emb.s + head.s;
  const Work dense = att.other + att.core + ffn;
  f.flops = L.devices * (n * mb * passes_.model_flops(dense.flops, att.core.flops) + passes_.model_flops(head.flops, 0));
  f.bytes = L.devices * (n * mb * (dense.bytes + passes_.backward(dense.bytes)) + emb.bytes * (passes_.training ? 3.0 : 1.0) +
                         head.bytes + passes_.backward(head.bytes));
  if (passes_.training) {
    const OptimizerCost opt = optimizer_step(L);
    f.optimizer_s = opt.optimizer.s;
    f.grad_sync_s = opt.grad_sync_s;
    // Once per step (summarize_throughput multiplies fixed bytes by the micro-batches), on every stage's devices.
    const double stages = std::max(1, dep.training.pipeline_stages), micro = std::max(1, dep.training.micro_batches);
    f.bytes += L.devices * stages * opt.optimizer.bytes / micro;
  }
  return f;
}

}  // namespace

void register_builtin_cost_models(CostModelRegistry& reg) {
  reg.add("roofline",
          "per-kernel roofline (FLOPs vs bytes, plus a kernel latency) with calibrated efficiencies per device and "
          "kernel kind; routed experts costed expert by expert; all-to-all = latency + bytes / link bandwidth from the "
          "routing's per-pair traffic (DeepEP-style), overlapped by two micro-batches",
          [](const CostInput& in) { return std::make_unique<RooflineCost>(in); });
}

}  // namespace moesim
