// routing/kernels_scalar.cpp: the portable kernels, and the run-time choice of kernels (simd.hpp).
// The fp32 arithmetic here is the definition the AVX-512 kernels reproduce bit for bit. Each kernel is
// cloned for x86-64-v3 (core/clones.hpp), the same bits with FMA instructions and AVX2 loops.
#pragma GCC optimize("fp-contract=off")

#include "core/clones.hpp"
#include "routing/fast_math.hpp"
#include "routing/routing_common.hpp"
#include "routing/simd.hpp"

#include <atomic>
#include <limits>

namespace moesim::routing {

namespace {

MOESIM_X86_64_V3_CLONE
float topk_scalar(const float* key, const Range* ranges, int n_ranges, int k, int32_t* idx, TopKScratch& scratch) {
  int n = 0;
  for (int r = 0; r < n_ranges; ++r) n += ranges[r].end - ranges[r].begin;
  Selector<float> sel(n, k);  // allocates k or n entries; the scalar path is not the fast one
  float mx = -std::numeric_limits<float>::infinity();
  for (int r = 0; r < n_ranges; ++r)
    for (int e = ranges[r].begin; e < ranges[r].end; ++e) {
      sel.offer(key[e], e);
      mx = key[e] > mx ? key[e] : mx;
    }
  int s = 0;
  for (const auto& c : sel.best()) idx[s++] = c.index;
  return mx;
}

// The order of fast_math.hpp: blocks of 256, lane j adds its 16 terms pairwise in fp32, fp64 lane sums.
MOESIM_X86_64_V3_CLONE
double exp_sum_scalar(const float* x, int n, float m, float* e_out) {
  double lane[kSumLanes] = {};
  for (int b = 0; b < n; b += kSumBlock)
    for (int j = 0; j < kSumLanes; ++j) {
      float t[kSumTerms];
      for (int v = 0; v < kSumTerms; ++v) {
        const int e = b + kSumLanes * v + j;
        t[v] = e < n ? softmax_term(x[e], m) : 0.0f;
        if (e_out && e < n) e_out[e] = t[v];
      }
      lane[j] += pairwise_sum(t);
    }
  for (int h = kSumLanes / 2; h >= 1; h /= 2)
    for (int j = 0; j < h; ++j) lane[j] += lane[j + h];
  return lane[0];
}

MOESIM_X86_64_V3_CLONE
void sigmoid_scalar(const float* x, int n, float* s) {
  for (int e = 0; e < n; ++e) s[e] = sigmoid_f32(x[e]);
}

MOESIM_X86_64_V3_CLONE
void sigmoid_bias_scalar(const float* x, const float* bias, int n, float* s, float* key) {
  for (int e = 0; e < n; ++e) {
    s[e] = sigmoid_f32(x[e]);
    key[e] = s[e] + bias[e];
  }
}

MOESIM_X86_64_V3_CLONE
void group_scores_scalar(const float* key, int groups, int per_group, bool top2, float* score) {
  for (int g = 0; g < groups; ++g) {
    const float* v = key + g * per_group;
    float first = v[0], second = -std::numeric_limits<float>::infinity();
    for (int i = 1; i < per_group; ++i) {
      if (v[i] > first) {
        second = first;
        first = v[i];
      } else if (v[i] > second) {
        second = v[i];
      }
    }
    score[g] = top2 ? first + second : first;
  }
}

MOESIM_X86_64_V3_CLONE
void group_top1_scalar(const float* key, int n, int per_group, int32_t* idx) {
  for (int g = 0; g * per_group < n; ++g) {
    int best = g * per_group;
    for (int e = best + 1; e < (g + 1) * per_group; ++e)
      if (key[e] > key[best]) best = e;
    idx[g] = best;
  }
}

MOESIM_X86_64_V3_CLONE
void scores_at_scalar(const float* x, const int32_t* idx, int k, ScoringFunc f, float m, double inv, float* w) {
  for (int s = 0; s < k; ++s)
    w[s] = f == ScoringFunc::sigmoid ? sigmoid_f32(x[idx[s]])
                                     : static_cast<float>(static_cast<double>(softmax_term(x[idx[s]], m)) * inv);
}

MOESIM_X86_64_V3_CLONE
void topk_softmax_scalar(const float* x, int n, int rows, int k, bool normalize, double scaling, int32_t* idx, float* w,
                         TopKScratch& scratch) {
  const Range all{0, n};
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    prefetch_row(xr + kPrefetchRows * n, n);  // never faults, also past the batch's end
    const float m = topk_scalar(xr, &all, 1, k, idx + r * k, scratch);
    scores_at_scalar(xr, idx + r * k, k, ScoringFunc::softmax, m, 1.0 / exp_sum_scalar(xr, n, m, nullptr), w + r * k);
    finish_weights(w + r * k, k, normalize, scaling);
  }
}

MOESIM_X86_64_V3_CLONE
void group_top1_softmax_scalar(const float* x, int n, int rows, int per_group, int32_t* idx, float* w) {
  const int groups = n / per_group;
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    prefetch_row(xr + kPrefetchRows * n, n);
    int32_t* ix = idx + r * groups;
    group_top1_scalar(xr, n, per_group, ix);
    float m = xr[ix[0]];  // the row max is the largest group max
    for (int g = 1; g < groups; ++g) m = xr[ix[g]] > m ? xr[ix[g]] : m;
    scores_at_scalar(xr, ix, groups, ScoringFunc::softmax, m, 1.0 / exp_sum_scalar(xr, n, m, nullptr), w + r * groups);
  }
}

// The `keep` best of score[0, groups) (higher score, then lower group) as ascending, merged expert
// ranges; returns how many ranges.
int kept_ranges(const float* score, const GroupLimitedShape& sh, Range* ranges) {
  int n = 0;
  for (int g = 0; g < sh.groups; ++g) {
    int rank = 0;
    for (int h = 0; h < sh.groups; ++h) rank += score[h] > score[g] || (score[h] == score[g] && h < g);
    if (rank >= sh.keep) continue;
    if (n > 0 && ranges[n - 1].end == g * sh.per_group) {
      ranges[n - 1].end += sh.per_group;
    } else {
      ranges[n++] = {g * sh.per_group, (g + 1) * sh.per_group};
    }
  }
  return n;
}

MOESIM_X86_64_V3_CLONE
void group_limited_scalar(const float* x, int rows, const GroupLimitedShape& sh, int32_t* idx, float* w,
                                  TopKScratch& scratch) {
  const int n = sh.n;
  const bool scored_keys = sh.bias != nullptr || sh.top2;
  float* s = scratch.score.data();  // [n]
  float* key = scratch.key.data();  // [n]
  float group_score[64];
  Range ranges[64];
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float* kv = xr;
    if (scored_keys) {
      for (int e = 0; e < n; ++e) {
        s[e] = sigmoid_f32(xr[e]);
        key[e] = sh.bias ? s[e] + sh.bias[e] : s[e];
      }
      kv = key;
    }
    group_scores_scalar(kv, sh.groups, sh.per_group, sh.top2, group_score);
    const int n_ranges = kept_ranges(group_score, sh, ranges);
    topk_scalar(kv, ranges, n_ranges, sh.k, idx + r * sh.k, scratch);
    if (sh.softmax) {  // keys are the logits: the row max is the largest group max
      const float m = *std::max_element(group_score, group_score + sh.groups);
      scores_at_scalar(xr, idx + r * sh.k, sh.k, ScoringFunc::softmax, m, 1.0 / exp_sum_scalar(xr, n, m, nullptr),
                       w + r * sh.k);
    } else {
      for (int j = 0; j < sh.k; ++j) w[r * sh.k + j] = sigmoid_f32(xr[idx[r * sh.k + j]]);
    }
    finish_weights(w + r * sh.k, sh.k, sh.normalize, sh.scaling);
  }
}

bool cpu_has_avx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512vpopcntdq") &&
         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

std::atomic<int> g_forced{-1};  // -1: use the detected level
std::atomic<int> g_forced_listing{-1};  // -1: by vendor
std::atomic<int> g_forced_prefetch{-1};  // -1: by CPU family

bool cpu_is_amd() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_is("amd");
#else
  return false;
#endif
}

// AMD family 19h (25): Zen 3 and Zen 4.
bool cpu_is_amd_family_19h() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_is("amdfam19h");
#else
  return false;
#endif
}

}  // namespace

const Kernels& scalar_kernels() {
  static const Kernels k{topk_scalar,         exp_sum_scalar,          sigmoid_scalar,      sigmoid_bias_scalar,
                         group_scores_scalar, group_top1_scalar,       scores_at_scalar,    topk_softmax_scalar,
                         group_top1_softmax_scalar, group_limited_scalar};
  return k;
}

SimdLevel detected_simd_level() {
  static const SimdLevel level = cpu_has_avx512() ? SimdLevel::avx512 : SimdLevel::scalar;
  return level;
}

SimdLevel simd_level() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced < 0 ? detected_simd_level() : static_cast<SimdLevel>(forced);
}

void set_simd_level_for_testing(SimdLevel level) {
  const int l = std::min(static_cast<int>(level), static_cast<int>(detected_simd_level()));
  g_forced.store(l, std::memory_order_relaxed);
}

CandidateListing candidate_listing() {
  static const CandidateListing by_vendor = cpu_is_amd() ? CandidateListing::compress : CandidateListing::gather;
  const int forced = g_forced_listing.load(std::memory_order_relaxed);
  return forced < 0 ? by_vendor : static_cast<CandidateListing>(forced);
}

void set_candidate_listing_for_testing(std::optional<CandidateListing> listing) {
  g_forced_listing.store(listing ? static_cast<int>(*listing) : -1, std::memory_order_relaxed);
}

RowPrefetch row_prefetch() {
  // Family 25 with AVX-512 is Zen 4 (Zen 3 has none, and only the AVX-512 kernels prefetch).
  static const RowPrefetch by_family = cpu_is_amd_family_19h() ? RowPrefetch::l2_far : RowPrefetch::l1_near;
  const int forced = g_forced_prefetch.load(std::memory_order_relaxed);
  return forced < 0 ? by_family : static_cast<RowPrefetch>(forced);
}

void set_row_prefetch_for_testing(std::optional<RowPrefetch> policy) {
  g_forced_prefetch.store(policy ? static_cast<int>(*policy) : -1, std::memory_order_relaxed);
}

const Kernels& kernels() { return simd_level() == SimdLevel::avx512 ? avx512_kernels() : scalar_kernels(); }

}  // namespace moesim::routing
