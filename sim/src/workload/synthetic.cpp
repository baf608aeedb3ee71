// workload/synthetic.cpp: router logits drawn from a per-layer popularity with Gumbel noise.
//
// Why Gumbel noise: if G_e are i.i.d. standard Gumbel (G = -log(-log u), u uniform on (0, 1)), then
// argmax_e (log p_e + G_e) equals e with probability exactly p_e (the Gumbel-max trick: log p_e + G_e
// is Gumbel with location log p_e, and the max of Gumbels with locations a_e has probability
// exp(a_e) / sum_f exp(a_f) of being attained at e). Removing the winner and repeating on the rest
// gives the same law again, so the k largest of log p + G are k distinct experts drawn one after the
// other without replacement, each with probability proportional to p among those left
// (Plackett-Luce). Hence with sequence_correlation = 0 and logit_scale = 1:
//   - a top-1 router picks expert e with probability p_l[e];
//   - a top-k router draws k distinct experts without replacement proportional to p_l;
//   - uniform popularity gives every token k experts uniformly at random, the Monte Carlo of the
//     Pangu Pro MoE Imbalance Score (reference/routing.md section 3).
// A positive logit_scale leaves the argmax order unchanged (selection law as above); it only sharpens
// or flattens the softmax weights the router computes.
//
// Sequence correlation c: G[t, e] = c * Gseq[s, e] + (1 - c) * Gtok[t, e] with s = t / tokens_per_sequence.
// c = 1 gives every token of a sequence the same logits; 0 < c < 1 is a blend (no longer Gumbel,
// so the selection law is only approximately p).
//
// Determinism: value [t, e] depends only on (seed, step, layer, t, e). ARS-5 (workload/ars.hpp) key =
// seed, counter = {e / 4, t, stream} with stream = mix64 of (step, layer, purpose), word e % 4: all 4
// words of each counter are used. The transform is an elementwise pure function, so the chunking (fixed
// token chunks over the thread pool) cannot change any bit, nor can the batch size: row t is the same in
// a batch of 300 tokens and in one of 1000.
#pragma GCC optimize("fp-contract=off")  // the portable generator defines the bits (core/clones.hpp)

#include "workload/synthetic.hpp"

#include "core/clones.hpp"

#include "workload/huge_pages.hpp"

#include "moesim/error.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace moesim::workload_detail {
namespace {

constexpr int64_t kTokensPerChunk = 256;  // tokens per parallel_for chunk

// The rows of one batch (step, layer): value [t, e] from the token's (and its sequence's) ARS words.
class SyntheticRows final : public BatchRows {
 public:
  SyntheticRows(const WorkloadInput& in, int64_t step, int layer, const float* logp, std::vector<float> own_logp)
      : n_exp_(in.num_experts), per_seq_(in.tokens_per_sequence),
        c_(static_cast<float>(in.spec.sequence_correlation)), scale_(static_cast<float>(in.spec.logit_scale)),
        own_logp_(std::move(own_logp)), logp_(own_logp_.empty() ? logp : own_logp_.data()),
        tok_rng_(in.seed, stream_id(static_cast<uint64_t>(step), static_cast<uint64_t>(layer), Purpose::token_noise)),
        seq_rng_(in.seed, stream_id(static_cast<uint64_t>(step), static_cast<uint64_t>(layer), Purpose::sequence_noise)),
        gumbel_(gumbel_row()), gumbel_rows_(gumbel_rows()) {}

  void fill(int64_t begin, int64_t end, float* out) const override {
    const int n_exp = n_exp_;
    const float c = c_, scale = scale_;
    if (c == 0.0f) {  // the common case: noise and popularity in one pass
      gumbel_rows_(tok_rng_, begin, end - begin, n_exp, logp_, scale, out);
      return;
    }
    std::vector<float> seq_g(static_cast<size_t>(n_exp));  // Gseq row: [num_experts]
    int64_t seq_loaded = -1;
    for (int64_t t = begin; t < end; ++t) {
      float* row = out + (t - begin) * n_exp;
      if (c < 1.0f) gumbel_(tok_rng_, t, n_exp, nullptr, 1.0f, row);
      const int64_t s = t / per_seq_;
      if (s != seq_loaded) {
        gumbel_(seq_rng_, s, n_exp, nullptr, 1.0f, seq_g.data());
        seq_loaded = s;
      }
      const float* g = seq_g.data();
      if (c < 1.0f) {
        for (int e = 0; e < n_exp; ++e) row[e] = c * g[e] + (1.0f - c) * row[e];
      } else {
        for (int e = 0; e < n_exp; ++e) row[e] = g[e];
      }
      for (int e = 0; e < n_exp; ++e) row[e] = scale * (logp_[e] + row[e]);
    }
  }

 private:
  int n_exp_;
  int64_t per_seq_;
  float c_, scale_;
  std::vector<float> own_logp_;  // log p of this (step, layer) when not the workload's cached one
  const float* logp_;            // [num_experts]
  RowUniforms tok_rng_, seq_rng_;
  GumbelRowFn gumbel_;
  GumbelRowsFn gumbel_rows_;
};

class SyntheticWorkload final : public Workload {
 public:
  explicit SyntheticWorkload(const WorkloadInput& in) : in_(in) {
    log_popularity_.resize(static_cast<size_t>(in.num_layers));
    for (int l = 0; l < in.num_layers; ++l) log_popularity_[static_cast<size_t>(l)] = log_popularity(l);
    if (in.spec.drift > 0.0) drift_ = std::make_unique<DriftWalk>(in);
  }

  void generate(int64_t step, int layer, int64_t tokens, Scores& out, ThreadPool& pool) const override {
    const int n_exp = in_.num_experts;
    if (out.rows() != tokens || out.cols() != n_exp) {
      out.resize(tokens, n_exp);  // fresh, untouched pages: ask for 2 MB ones before the first write
      advise_huge_pages(out.data(), static_cast<size_t>(out.size()) * sizeof(float));
    }
    const std::unique_ptr<BatchRows> batch = rows(step, layer);
    pool.parallel_for(tokens, kTokensPerChunk,
                      [&](int64_t begin, int64_t end) { batch->fill(begin, end, out.data() + begin * n_exp); });
  }

  std::unique_ptr<BatchRows> rows(int64_t step, int layer) const override {
    // log p_l: [num_experts]; layers beyond num_layers are computed on demand (once per batch).
    std::vector<float> extra;
    const bool known = layer >= 0 && layer < in_.num_layers;
    if (!known) extra = log_popularity(layer);
    if (drift_) extra = drift_->log_popularity(layer, step);  // drift > 0 only: drift = 0 keeps the static p
    const float* cached = known && !drift_ ? log_popularity_[static_cast<size_t>(layer)].data() : nullptr;
    return std::make_unique<SyntheticRows>(in_, step, layer, cached, std::move(extra));
  }

 private:
  std::vector<float> log_popularity(int layer) const {
    const std::vector<double> p = synthetic_popularity(in_, layer);
    std::vector<float> logp(p.size());
    for (size_t e = 0; e < p.size(); ++e) logp[e] = static_cast<float>(std::log(p[e]));
    return logp;
  }

  WorkloadInput in_;
  std::vector<std::vector<float>> log_popularity_;  // [num_layers][num_experts]
  std::unique_ptr<DriftWalk> drift_;                // null unless workload.drift > 0
};

void require(bool ok, const std::string& key, double value, const std::string& problem) {
  if (!ok) throw Error("", key, std::to_string(value), problem);
}

}  // namespace

// Cloned for x86-64-v3 (core/clones.hpp): about 10x faster there than baseline x86-64's libm fmaf calls.
MOESIM_X86_64_V3_CLONE
void gumbel_row_scalar(const RowUniforms& rng, int64_t row, int n, const float* logp, float scale, float* out) {
  rng.fill(row, n, out);
  for (int e = 0; e < n; ++e) out[e] = gumbel_noise(out[e]);
  if (logp) {
    for (int e = 0; e < n; ++e) out[e] = scale * (logp[e] + out[e]);
  }
}

GumbelRowFn gumbel_row() {
  return gumbel_avx512_supported() ? gumbel_row_avx512
         : gumbel_avx512_aesni_supported() ? gumbel_row_avx512_aesni
                                           : gumbel_row_scalar;
}

void gumbel_rows_scalar(const RowUniforms& rng, int64_t row0, int64_t rows, int n, const float* logp, float scale,
                        float* out) {
  for (int64_t r = 0; r < rows; ++r) gumbel_row_scalar(rng, row0 + r, n, logp, scale, out + r * n);
}

GumbelRowsFn gumbel_rows() {
  return gumbel_avx512_supported() ? gumbel_rows_avx512
         : gumbel_avx512_aesni_supported() ? gumbel_rows_avx512_aesni
                                           : gumbel_rows_scalar;
}

std::unique_ptr<Workload> make_synthetic_workload(const WorkloadInput& in) {
  const WorkloadSpec& s = in.spec;
  require(in.num_experts > 0, "model.num_experts", in.num_experts, "the synthetic workload needs routed experts");
  require(in.tokens_per_sequence >= 1, "run.tokens_per_sequence", in.tokens_per_sequence, "must be at least 1");
  require(s.sequence_correlation >= 0.0 && s.sequence_correlation <= 1.0, "workload.sequence_correlation",
          s.sequence_correlation, "must be in [0, 1]");
  require(s.logit_scale > 0.0, "workload.logit_scale", s.logit_scale, "must be positive");
  require(s.zipf_exponent >= 0.0, "workload.zipf_exponent", s.zipf_exponent, "must be >= 0");
  require(s.lognormal_sigma >= 0.0, "workload.lognormal_sigma", s.lognormal_sigma, "must be >= 0");
  require(s.layer_sigma >= 0.0, "workload.layer_sigma", s.layer_sigma, "must be >= 0");
  require(s.drift >= 0.0 && std::isfinite(s.drift), "workload.drift", s.drift, "must be a finite number >= 0");
  return std::make_unique<SyntheticWorkload>(in);
}

}  // namespace moesim::workload_detail
