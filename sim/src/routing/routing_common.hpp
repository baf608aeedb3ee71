// routing/routing_common.hpp: the pieces every router shares (private to src/routing and tests).
//
// Conventions, used by every router and by the test reference (tests/support/reference_routing.hpp):
// - Ranking: a higher key ranks first; equal keys -> the LOWER index (expert, group or token) ranks first.
// - With no bias, routers select on the logits themselves: softmax and sigmoid are strictly increasing,
//   so this is the exact order of the scores, free of fp32 saturation (sigmoid(20) == sigmoid(30) in fp32).
// - With a bias, routers select on fp32 (score + bias), the score computed exactly as below.
#pragma once

#include "moesim/model.hpp"
#include "routing/fast_math.hpp"
#include "routing/simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::routing {

template <class Key>
struct Candidate {
  Key key;
  int32_t index;
};

// The ranking order above: strict and total as long as keys are not NaN.
template <class Key>
inline bool ranks_before(const Candidate<Key>& a, const Candidate<Key>& b) {
  return a.key > b.key || (a.key == b.key && a.index < b.index);
}

// Keeps the best k of a stream of candidates offered in INCREASING index order (so an equal key offered
// later never displaces an earlier one). Small k: sorted insertion; large k: collect all, partial sort.
// Allocates only in the constructor: make one per chunk of tokens, reset() per token.
template <class Key>
class Selector {
 public:
  static constexpr int kInsertionMaxK = 16;

  Selector(int n, int k) : k_(k), insertion_(k <= kInsertionMaxK), buf_(static_cast<size_t>(insertion_ ? k : n)) {}

  void reset() { size_ = 0; }

  void offer(Key key, int32_t index) {
    if (!insertion_) {
      buf_[size_++] = {key, index};
      return;
    }
    if (size_ == k_) {
      if (!(key > buf_[size_ - 1].key)) return;
      --size_;
    }
    int i = size_++;
    while (i > 0 && key > buf_[i - 1].key) {
      buf_[i] = buf_[i - 1];
      --i;
    }
    buf_[i] = {key, index};
  }

  // The best min(k, offered) candidates, best first.
  std::span<const Candidate<Key>> best() {
    if (!insertion_) {
      const int m = std::min(k_, size_);
      std::partial_sort(buf_.begin(), buf_.begin() + m, buf_.begin() + size_, ranks_before<Key>);
      size_ = m;
    }
    return {buf_.data(), static_cast<size_t>(size_)};
  }

 private:
  int k_;
  bool insertion_;
  int size_ = 0;
  std::vector<Candidate<Key>> buf_;
};

inline float sigmoid(float x) { return sigmoid_f32(x); }

// max_e x[e] for NaN-free x (n >= 1), in 8 independent running maxima: one chain through std::max kept
// the running value in memory and cost ~8 cycles per expert (a fifth of expert-choice routing). Any
// order gives the same value, up to the sign of a zero maximum, which no softmax term depends on
// (x - m and x == m are the same for m = -0 and +0).
inline float row_max(const float* x, int n) {
  float m[8];
  for (int j = 0; j < 8; ++j) m[j] = x[0];
  int e = 1;
  for (; e + 8 <= n; e += 8)
    for (int j = 0; j < 8; ++j) m[j] = x[e + j] > m[j] ? x[e + j] : m[j];
  for (; e < n; ++e) m[0] = x[e] > m[0] ? x[e] : m[0];
  float r = m[0];
  for (int j = 1; j < 8; ++j) r = m[j] > r ? m[j] : r;
  return r;
}

// p[e] = softmax_term(x[e], max) / sum_e softmax_term(x[e], max) (fast_math.hpp: exp_f32, the limit rule
// for infinite logits, the sum in the fixed order there), as fp32(fp64(term) * (1 / sum)). The test
// reference computes the same formula, so that selections on biased probabilities agree bit for bit.
inline void softmax_row(const float* x, int n, float* p) {
  const double inv = 1.0 / kernels().exp_sum(x, n, row_max(x, n), p);
  for (int e = 0; e < n; ++e) p[e] = static_cast<float>(static_cast<double>(p[e]) * inv);
}

// s = softmax(x) over the row, or sigmoid(x) element-wise.
inline void score_row(ScoringFunc f, const float* x, int n, float* s) {
  if (f == ScoringFunc::softmax) {
    softmax_row(x, n, s);
  } else {
    kernels().sigmoid(x, n, s);
  }
}

// Chosen weights -> final weights: divide by their sum when normalize (left as they are when the sum is 0,
// e.g. sigmoid of very negative logits, so weights stay finite), then multiply by scaling; each weight
// becomes fp32(fp64(w) * f). The sum is fp64 in 16 lanes (slot s in lane s % 16, in slot order) folded
// pairwise (lane j += lane j + h, h = 8, 4, 2, 1): one AVX-512 register pair for k <= 16, so the fused
// kernels finish weights in registers with the same bits. Nothing to do without normalize and with
// scaling 1.
inline void finish_weights(float* w, int n, bool normalize, double scaling) {
  if (!normalize && scaling == 1.0) return;
  double f = scaling;
  if (normalize) {
    double lane[16] = {};
    for (int i = 0; i < n; ++i) lane[i % 16] += w[i];
    for (int h = 8; h >= 1; h /= 2)
      for (int j = 0; j < h; ++j) lane[j] += lane[j + h];
    if (lane[0] > 0.0) f = scaling / lane[0];
  }
  for (int i = 0; i < n; ++i) w[i] = static_cast<float>(static_cast<double>(w[i]) * f);
}

// Per-expert capacity C = ceil(factor * tokens * k / experts) (GShard, Switch Transformer).
// The quotient is shrunk by 1e-12 (relative) before ceil so that fp64 rounding of an exact integer
// (1.1 * 100 / 10 = 11.000000000000002) does not add one; it only matters within 1e-12 of an integer.
inline int64_t capacity_per_expert(double factor, int64_t tokens, int k, int experts) {
  const double c = factor * static_cast<double>(tokens * k) / experts;
  return static_cast<int64_t>(std::ceil(c * (1.0 - 1e-12)));
}

}  // namespace moesim::routing
