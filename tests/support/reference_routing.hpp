// tests/support/reference_routing.hpp: plain, obviously-correct routers to check the fast path against.
// Sort-based (std::stable_sort of expert ids by descending key, so equal keys keep the lower id first),
// one token at a time, weights in fp64. Selection keys are computed exactly as the routers define them
// (sim/src/routing/routing_common.hpp): the logits when there is no bias (group_limited top2_sum: the
// fp32 scores, since it adds them), else fp32 score + bias, the fp32 softmax following fast_math.hpp
// (routing::exp_f32, the routers' own scalar exp, and its fixed summation order; see scores_f32). So the
// chosen indices must match exactly; weights (fp64 here, with std::exp) match to fp32 rounding.
#pragma once

#include "moesim/router.hpp"
#include "moesim/scenario.hpp"
#include "moesim/types.hpp"
#include "routing/fast_math.hpp"
#include "routing/hash_router.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

namespace moesim::ref {

// Ids 0..n-1 sorted by descending key; equal keys keep ascending id (stable sort).
template <class Key>
std::vector<int> rank_desc(const std::vector<Key>& key) {
  std::vector<int> id(key.size());
  std::iota(id.begin(), id.end(), 0);
  std::stable_sort(id.begin(), id.end(), [&](int a, int b) { return key[a] > key[b]; });
  return id;
}

// fp32 scores as the routers compute them (used for selection keys and expert_choice ranking): the
// definition of fast_math.hpp written out plainly. Softmax terms exp_f32(x - m), 1 where x == m (the limit
// for infinite logits); their sum: blocks of 256 experts, lane j adding its 16 terms pairwise in fp32
// (((t0 + t1) + (t2 + t3)) + ...), block sums added into 16 fp64 lanes, lanes folded pairwise;
// p = fp32(fp64(term) * (1 / sum)).
inline std::vector<float> scores_f32(ScoringFunc f, const float* x, int n) {
  std::vector<float> s(n);
  if (f == ScoringFunc::sigmoid) {
    for (int e = 0; e < n; ++e) s[e] = 1.0f / (1.0f + routing::exp_f32(-x[e]));
    return s;
  }
  const float m = *std::max_element(x, x + n);
  std::vector<float> term(n);
  for (int e = 0; e < n; ++e) term[e] = x[e] == m ? 1.0f : routing::exp_f32(x[e] - m);
  double lane[16] = {};
  for (int b = 0; b < n; b += 256)
    for (int j = 0; j < 16; ++j) {
      float t[16];
      for (int v = 0; v < 16; ++v) t[v] = b + 16 * v + j < n ? term[b + 16 * v + j] : 0.0f;
      for (int w = 1; w < 16; w *= 2)  // pairwise: t_v += t_{v + w}, v a multiple of 2 w
        for (int v = 0; v + w < 16; v += 2 * w) t[v] += t[v + w];
      lane[j] += t[0];
    }
  for (int h = 8; h >= 1; h /= 2)  // pairwise: lane j += lane j + h
    for (int j = 0; j < h; ++j) lane[j] += lane[j + h];
  const double inv = 1.0 / lane[0];
  for (int e = 0; e < n; ++e) s[e] = static_cast<float>(static_cast<double>(term[e]) * inv);
  return s;
}

// fp64 scores, for the weights. Softmax with infinite logits: the limit (the experts equal to the
// maximum share the mass).
inline std::vector<double> scores_f64(ScoringFunc f, const float* x, int n) {
  std::vector<double> s(n);
  const double m = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int e = 0; e < n; ++e) {
    s[e] = f == ScoringFunc::sigmoid ? 1.0 / (1.0 + std::exp(-static_cast<double>(x[e])))
                                     : (x[e] == m ? 1.0 : std::exp(x[e] - m));
    sum += s[e];
  }
  if (f == ScoringFunc::softmax)
    for (double& v : s) v /= sum;
  return s;
}

// Selection keys of one token: logits with no bias, else fp32 (score + bias).
inline std::vector<float> selection_keys(ScoringFunc f, const float* x, int n, std::span<const float> bias) {
  if (bias.empty()) return std::vector<float>(x, x + n);
  std::vector<float> key = scores_f32(f, x, n);
  for (int e = 0; e < n; ++e) key[e] = key[e] + bias[e];
  return key;
}

// Writes experts `chosen` of token t with weights w (normalised if asked, times scaling).
inline void write_token(const RouterSpec& spec, int64_t t, const std::vector<int>& chosen, std::vector<double> w,
                        Assignments& out) {
  double sum = 0.0;
  for (double v : w) sum += v;
  for (size_t s = 0; s < chosen.size(); ++s) {
    const double v = (spec.normalize && sum > 0) ? w[s] / sum : w[s];
    out.expert[t * out.slots + s] = chosen[s];
    out.weight[t * out.slots + s] = static_cast<float>(v * spec.scaling);
  }
}

// One token's experts for the token-wise routers (topk, moge, group_limited, hash).
inline std::vector<int> choose(const RouterSpec& spec, const float* x, std::span<const float> bias) {
  const int n = spec.num_experts, k = spec.k;
  std::vector<float> key = selection_keys(spec.scoring, x, n, bias);
  std::vector<int> chosen;
  if (spec.name == "topk") {
    const std::vector<int> order = rank_desc(key);
    chosen.assign(order.begin(), order.begin() + k);
  } else if (spec.name == "moge") {
    const int per = n / spec.groups;
    for (int g = 0; g < spec.groups; ++g) {
      const std::vector<int> order = rank_desc(std::vector<float>(key.begin() + g * per, key.begin() + (g + 1) * per));
      for (int i = 0; i < k / spec.groups; ++i) chosen.push_back(g * per + order[i]);
    }
  } else if (spec.name == "group_limited") {
    const int per = n / spec.groups, kept = spec.topk_group == 0 ? spec.groups : spec.topk_group;
    // A top-2 sum adds scores, never logits: with no bias its keys are the fp32 scores themselves.
    if (bias.empty() && spec.group_score == GroupScore::top2_sum) key = scores_f32(spec.scoring, x, n);
    std::vector<float> group_score(spec.groups);
    for (int g = 0; g < spec.groups; ++g) {
      std::vector<float> v(key.begin() + g * per, key.begin() + (g + 1) * per);
      std::sort(v.begin(), v.end(), std::greater<float>());
      group_score[g] = spec.group_score == GroupScore::max ? v[0] : v[0] + v[1];
    }
    // Only the kept groups' experts compete (a kept expert whose key is -inf still beats every expert of
    // a dropped group): their ids in increasing order, stably ranked by key.
    const std::vector<int> group_order = rank_desc(group_score);
    std::vector<bool> kept_group(spec.groups, false);
    for (int i = 0; i < kept; ++i) kept_group[group_order[i]] = true;
    std::vector<int> ids;
    for (int e = 0; e < n; ++e)
      if (kept_group[e / per]) ids.push_back(e);
    std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return key[a] > key[b]; });
    chosen.assign(ids.begin(), ids.begin() + k);
  } else if (spec.name == "hash") {
    const uint64_t h = routing::hash_row(x, n);
    std::vector<uint64_t> hk(n);
    for (int e = 0; e < n; ++e) hk[e] = routing::hash_expert_key(h, e);
    const std::vector<int> order = rank_desc(hk);
    chosen.assign(order.begin(), order.begin() + k);
  }
  return chosen;
}

// expert_choice: every expert takes its C best tokens; each token's experts by descending fp32 weight.
inline Assignments expert_choice(const RouterSpec& spec, const Scores& scores) {
  const int n = spec.num_experts;
  const int64_t T = scores.rows();
  const double cf = spec.capacity_factor > 0 ? spec.capacity_factor : 1.0;
  // C = min(T, ceil(cf * T * k / E)), with the routers' 1e-12 relative shrink against fp64 rounding.
  const int64_t C = std::min<int64_t>(T, static_cast<int64_t>(std::ceil(cf * double(T * spec.k) / n * (1 - 1e-12))));
  std::vector<std::vector<float>> p(T);  // [tokens][experts]
  for (int64_t t = 0; t < T; ++t) p[t] = scores_f32(spec.scoring, scores.data() + t * n, n);
  std::vector<std::vector<int>> got(T);  // [tokens] experts received, ascending
  for (int e = 0; e < n; ++e) {
    std::vector<float> column(T);
    for (int64_t t = 0; t < T; ++t) column[t] = p[t][e];
    const std::vector<int> order = rank_desc(column);
    for (int64_t i = 0; i < C; ++i) got[order[i]].push_back(e);
  }
  size_t slots = 1;
  for (const auto& g : got) slots = std::max(slots, g.size());
  Assignments out;
  out.resize(T, static_cast<int>(slots));
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> w;
    for (int e : got[t]) w.push_back(p[t][e]);
    const std::vector<int> order = rank_desc(w);
    std::vector<int> chosen;
    std::vector<double> cw;
    for (int i : order) {
      chosen.push_back(got[t][i]);
      cw.push_back(w[i]);
    }
    write_token(spec, t, chosen, cw, out);
  }
  out.requested = T * spec.k;
  out.dropped_count = std::max<int64_t>(0, out.requested - n * C);
  return out;
}

// The reference decision for a registered router name, or nullopt when there is none.
inline std::optional<Assignments> route(const RouterSpec& spec, const Scores& scores, std::span<const float> bias) {
  if (bias.empty()) bias = spec.bias;  // the static bias, as the routers do
  if (spec.name == "expert_choice") return expert_choice(spec, scores);
  if (spec.name != "topk" && spec.name != "moge" && spec.name != "group_limited" && spec.name != "hash")
    return std::nullopt;
  const int n = spec.num_experts;
  Assignments out;
  out.resize(scores.rows(), spec.k);
  out.requested = scores.rows() * spec.k;
  for (int64_t t = 0; t < scores.rows(); ++t) {
    const float* x = scores.data() + t * n;
    const std::vector<int> chosen = choose(spec, x, bias);
    const std::vector<double> s = scores_f64(spec.scoring, x, n);
    std::vector<double> w;
    for (int e : chosen) w.push_back(spec.name == "hash" ? 1.0 / spec.k : s[e]);
    write_token(spec, t, chosen, w, out);
  }
  return out;
}

// Capacity in GShard's priority order (arXiv 2006.16668 Algorithm 1; fairseq top2gating's
// `locations2 += sum(mask1)`): list every (slot, token) assignment, sort by slot first, then token, and
// let each expert keep the first C of that list; the rest are dropped.
inline void apply_capacity(double factor, int num_experts, int k, Assignments& a) {
  if (factor <= 0 || a.tokens == 0) return;
  const auto C = static_cast<int64_t>(std::ceil(factor * double(a.tokens * k) / num_experts * (1 - 1e-12)));
  struct Request {
    int slot;
    int64_t token;
  };
  std::vector<Request> order;
  for (int64_t t = 0; t < a.tokens; ++t)
    for (int s = 0; s < a.slots; ++s)
      if (a.expert_at(t, s) >= 0) order.push_back({s, t});
  std::sort(order.begin(), order.end(),
            [](const Request& x, const Request& y) { return x.slot != y.slot ? x.slot < y.slot : x.token < y.token; });
  std::vector<int64_t> used(num_experts, 0);
  a.dropped.assign(a.expert.size(), 0);
  for (const Request& r : order) {
    const size_t i = static_cast<size_t>(r.token) * a.slots + r.slot;
    if (used[a.expert[i]]++ < C) continue;
    a.dropped[i] = 1;
    a.weight[i] = 0.0f;
    ++a.dropped_count;
  }
}

}  // namespace moesim::ref
