// workload/trace_workloads.cpp: the replaying workloads trace_counts and trace_tokens. Both bypass the
// router (Workload::replays): the simulator takes their assignments as recorded, then applies capacity,
// placement and metrics as for any router.
//
// trace_counts: a counts-only trace says how many tokens each expert received at (step, layer), not
// which token went where. It becomes an assignment table of tokens = ceil(sum of counts / k) tokens
// (k = the model's top_k), slots k, weights 1/k: the hits are dealt in a fixed order, experts in
// increasing id, each expert's hits one after the other, hit i to token i % tokens, slot i / tokens.
// Each token gets at most k experts, and an expert with no more hits than tokens never meets the same
// token twice. Loads per expert (and so per device under any placement) are exact; the destinations
// of each token, and so traffic, are synthetic. requested = the sum of the counts.
//
// trace_tokens: step s at MoE layer l replays tokens [s * T, (s + 1) * T) of the trace's layer
// (T = run.tokens_per_step), k slots as recorded, weights 1 / (experts the token names).
#include "workload/trace_file.hpp"

namespace moesim::trace {
namespace {

void require_path(const WorkloadInput& in) {
  if (in.spec.path.empty())
    throw Error(in.file, "workload.path", "", "missing: " + in.spec.name + " replays a trace file");
}

class CountsReplay final : public Workload {
 public:
  explicit CountsReplay(const WorkloadInput& in) : top_k_(in.top_k) {
    require_path(in);
    const WorkloadSpec& w = in.spec;
    MOESIM_CHECK(in.top_k >= 1, "trace_counts needs the model's top_k");
    src_ = open_counts(w.format, w.path, in.num_experts, in.top_k);
    first_layer_ = first_trace_layer(src_->layers, src_->layers_field, in, w.path);
    check_steps(src_->steps, std::to_string(src_->steps) + " steps", in, w.path);
  }

  void generate(int64_t, int, int64_t, Scores&, ThreadPool&) const override {
    MOESIM_CHECK(false, "trace_counts replays; it generates no logits");
  }
  bool replays() const override { return true; }

  void replay(int64_t step, int layer, Assignments& out) const override {
    std::vector<int64_t> counts;  // [experts]
    src_->read(step, first_layer_ + layer, counts);
    int64_t sum = 0;
    for (int64_t c : counts) sum += c;
    const int64_t tokens = (sum + top_k_ - 1) / top_k_;
    out.resize(tokens, top_k_);
    out.requested = sum;
    const float w = 1.0f / static_cast<float>(top_k_);
    int64_t hit = 0;
    for (size_t e = 0; e < counts.size(); ++e)
      for (int64_t c = 0; c < counts[e]; ++c, ++hit) {
        const size_t slot = static_cast<size_t>((hit % tokens) * top_k_ + hit / tokens);
        out.expert[slot] = static_cast<int32_t>(e);
        out.weight[slot] = w;
      }
  }

 private:
  int top_k_;
  int first_layer_ = 0;
  std::unique_ptr<CountsSource> src_;
};

class TokensReplay final : public Workload {
 public:
  explicit TokensReplay(const WorkloadInput& in) : tokens_per_step_(in.tokens_per_step) {
    require_path(in);
    const WorkloadSpec& w = in.spec;
    MOESIM_CHECK(in.tokens_per_step >= 1 && in.top_k >= 1, "trace_tokens needs run.tokens_per_step and top_k");
    if (in.tokens_per_step > kMaxReplayTokensPerStep)
      throw Error(in.file, "run.tokens_per_step", std::to_string(in.tokens_per_step),
                  "trace_tokens replays at most " + std::to_string(kMaxReplayTokensPerStep) + " tokens per step");
    if (w.format == "csv") src_ = open_tokens_csv(w.path, in.num_experts, in.top_k);
    else if (w.format == "npy") src_ = open_tokens_npy(w.path, in.num_experts, in.top_k);
    else throw Error(w.path, "format", w.format, "unknown trace format for trace_tokens; valid: csv, npy");
    first_layer_ = first_trace_layer(src_->layers, src_->layers_field, in, w.path);
    const int64_t steps = src_->tokens / tokens_per_step_;
    check_steps(steps,
                std::to_string(src_->tokens) + " tokens per layer, " + std::to_string(steps) + " steps of " +
                    std::to_string(tokens_per_step_) + " tokens (run.tokens_per_step)",
                in, w.path);
  }

  void generate(int64_t, int, int64_t, Scores&, ThreadPool&) const override {
    MOESIM_CHECK(false, "trace_tokens replays; it generates no logits");
  }
  bool replays() const override { return true; }

  void replay(int64_t step, int layer, Assignments& out) const override {
    const int k = src_->k;
    std::vector<int32_t> ids;  // [tokens_per_step, k]
    src_->read(first_layer_ + layer, step * tokens_per_step_, tokens_per_step_, ids);
    out.resize(tokens_per_step_, k);
    out.expert = ids;
    for (int64_t t = 0; t < tokens_per_step_; ++t) {
      int picked = 0;
      for (int s = 0; s < k; ++s) picked += out.expert_at(t, s) >= 0;
      for (int s = 0; s < k; ++s)
        if (out.expert_at(t, s) >= 0) out.weight[static_cast<size_t>(t * k + s)] = 1.0f / static_cast<float>(picked);
      out.requested += picked;
    }
  }

 private:
  int64_t tokens_per_step_;
  int first_layer_ = 0;
  std::unique_ptr<TokensSource> src_;
};

}  // namespace

std::unique_ptr<Workload> make_counts_workload(const WorkloadInput& in) { return std::make_unique<CountsReplay>(in); }
std::unique_ptr<Workload> make_tokens_workload(const WorkloadInput& in) { return std::make_unique<TokensReplay>(in); }

}  // namespace moesim::trace
