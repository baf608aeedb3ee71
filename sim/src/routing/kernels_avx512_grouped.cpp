// routing/kernels_avx512_grouped.cpp: the fused AVX-512 kernel of DeepSeek-V3 group-limited routing
// (simd.hpp, Kernels::group_limited; MoGE is in kernels_avx512_moge.cpp). Bit-identical to
// kernels_scalar.cpp; R rows at once, stage by stage, so that the dependency chains of rows overlap.
#include "routing/avx512_select.hpp"  // first: it opens the AVX-512 pragma region closed at the end

namespace moesim::routing {

namespace {

using namespace avx512;

// Top two of a multiset, lane by lane (b = -inf when there is one element).
struct Top2 {
  __m512 a, b;
};
inline Top2 merge(Top2 x, Top2 y) {
  return {_mm512_max_ps(x.a, y.a), _mm512_max_ps(_mm512_min_ps(x.a, y.a), _mm512_max_ps(x.b, y.b))};
}

// permutex2var indices that fold two registers of groups L lanes wide (L = 16, 8, 4, 2) into one of
// groups L/2 wide: output lane o of group slot q = o / (L/2) takes lane u = o % (L/2) of the first half
// (second: + L/2) of slot q, slots of A (the 16/L of them) first, then those of B.
struct FoldIndex {
  int32_t lane[4][2][16];
};
constexpr FoldIndex make_fold_index() {
  FoldIndex f{};
  for (int level = 0; level < 4; ++level) {
    const int L = 16 >> level, h = L / 2, per = 16 / L;
    for (int second = 0; second < 2; ++second)
      for (int o = 0; o < 16; ++o) {
        const int q = o / h, u = o % h;
        f.lane[level][second][o] = (q < per ? q * L : 16 + (q - per) * L) + u + (second ? h : 0);
      }
  }
  return f;
}
alignas(64) constexpr FoldIndex kFold = make_fold_index();

// Levels 0 and 1 of the same network by 128-bit shuffles (the same lanes: level 0 takes the 256-bit
// halves, level 1 the even and odd 128-bit quarters).
template <int kLevel>
inline Top2 fold_by_shuffle(Top2 a, Top2 b) {
  static_assert(kLevel == 0 || kLevel == 1);
  constexpr int first = kLevel == 0 ? 0x44 : 0x88, second = kLevel == 0 ? 0xEE : 0xDD;
  return merge(Top2{_mm512_shuffle_f32x4(a.a, b.a, first), _mm512_shuffle_f32x4(a.b, b.b, first)},
               Top2{_mm512_shuffle_f32x4(a.a, b.a, second), _mm512_shuffle_f32x4(a.b, b.b, second)});
}

inline Top2 fold(Top2 a, Top2 b, int level) {
  const __m512i i1 = _mm512_load_si512(kFold.lane[level][0]), i2 = _mm512_load_si512(kFold.lane[level][1]);
  const Top2 first{_mm512_permutex2var_ps(a.a, i1, b.a), _mm512_permutex2var_ps(a.b, i1, b.b)};
  const Top2 second{_mm512_permutex2var_ps(a.a, i2, b.a), _mm512_permutex2var_ps(a.b, i2, b.b)};
  return merge(first, second);
}

// The lane-wise top two of group g's vpg vectors of one row: the first two as {max, min} (max(-inf, min)
// is the min, NaN-free keys), then one merge a vector.
inline Top2 lane_top2(const float* row, int g, int vpg) {
  const __m512 v0 = _mm512_loadu_ps(row + 16 * vpg * g);
  if (vpg == 1) return {v0, _mm512_set1_ps(-kInf)};
  const __m512 v1 = _mm512_loadu_ps(row + 16 * vpg * g + 16);
  Top2 t{_mm512_max_ps(v0, v1), _mm512_min_ps(v0, v1)};
  for (int v = 2; v < vpg; ++v) {
    const __m512 kv = _mm512_loadu_ps(row + 16 * (vpg * g + v));
    t.b = _mm512_max_ps(t.b, _mm512_min_ps(t.a, kv));
    t.a = _mm512_max_ps(t.a, kv);
  }
  return t;
}

// R rows: the keys of each group's vectors, lane-wise top two, then a fold network over the groups: lane
// g of top[r] holds the top two keys of group g of row r (lanes >= groups: -inf). key: [R, n].
template <int R>
inline void group_top2(const float* key, int n, int groups, int vpg, Top2* top) {
  const __m512 ninf = _mm512_set1_ps(-kInf);
  // 8 groups (DeepSeek-V3: of 32), row by row: 16 registers live where all R rows at once held 64
  // (spills); levels 0 and 1 by 128-bit shuffles. Bench/README.md, stop 20.
  if (groups == 8) {
    for (int r = 0; r < R; ++r) {
      Top2 reg[8];
      for (int g = 0; g < 8; ++g) reg[g] = lane_top2(key + r * n, g, vpg);
      for (int p = 0; p < 4; ++p) reg[p] = fold_by_shuffle<0>(reg[2 * p], reg[2 * p + 1]);
      for (int p = 0; p < 2; ++p) reg[p] = fold_by_shuffle<1>(reg[2 * p], reg[2 * p + 1]);
      reg[0] = fold(reg[0], reg[1], 2);
      top[r] = fold(reg[0], Top2{ninf, ninf}, 3);
    }
    return;
  }
  Top2 reg[R][16];
  for (int g = 0; g < groups; ++g)
    for (int r = 0; r < R; ++r) reg[r][g] = lane_top2(key + r * n, g, vpg);
  int count = groups;
  for (int level = 0; level < 4; ++level) {  // 16 lanes per group -> 8 -> 4 -> 2 -> 1
    const int next = (count + 1) / 2;
    for (int p = 0; p < next; ++p)
      for (int r = 0; r < R; ++r)
        reg[r][p] = fold(reg[r][2 * p], 2 * p + 1 < count ? reg[r][2 * p + 1] : Top2{ninf, ninf}, level);
    count = next;
  }
  for (int r = 0; r < R; ++r) top[r] = reg[r][0];
}

// R rows: bit g of kept[r] set when group g is among the `keep` best of row r (higher score, then lower
// group), from lane g of score[r] (groups <= 16). Each group becomes one int64: its score's bits as a
// signed integer of the same order (+0.0 added, so that -0 and +0 are one score; a negative score's
// lower 31 bits flipped) above 15 - g: all distinct, ordered as (higher score, then lower group), so a
// group's rank is how many are larger, by one compare per group and no tie test. (VPCONFLICTD, for
// ties among float scores, is 37 uops on Intel cores.)
template <int R>
inline void kept_groups(const __m512* score, int groups, int keep, unsigned* kept) {
  const int halves = groups > 8 ? 2 : 1;  // groups 0-7, 8-15: eight int64 lanes each
  alignas(64) int64_t pb[R][16];
  __m512i p[R][2], rank[R][2];
  for (int r = 0; r < R; ++r) {
    const __m512i bits = _mm512_castps_si512(_mm512_add_ps(score[r], _mm512_setzero_ps()));
    for (int h = 0; h < halves; ++h) {
      const __m512i b = _mm512_cvtepi32_epi64(h ? _mm512_extracti64x4_epi64(bits, 1) : _mm512_castsi512_si256(bits));
      const __m512i ord = _mm512_xor_si512(b, _mm512_srli_epi64(_mm512_srai_epi64(b, 63), 33));  // ^ 0x7fffffff if < 0
      const __m512i code = _mm512_sub_epi64(_mm512_set1_epi64(15 - 8 * h), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
      p[r][h] = _mm512_or_si512(_mm512_slli_epi64(ord, 32), code);
      _mm512_store_si512(pb[r] + 8 * h, p[r][h]);
      rank[r][h] = _mm512_setzero_si512();
    }
  }
  const __m512i one = _mm512_set1_epi64(1);
  for (int g = 0; g < groups; ++g)
    for (int r = 0; r < R; ++r)
      for (int h = 0; h < halves; ++h)
        rank[r][h] = _mm512_mask_add_epi64(rank[r][h], _mm512_cmpgt_epi64_mask(_mm512_set1_epi64(pb[r][g]), p[r][h]),
                                           rank[r][h], one);
  const __m512i limit = _mm512_set1_epi64(keep);
  const unsigned live = (1u << groups) - 1u;
  for (int r = 0; r < R; ++r) {
    kept[r] = _mm512_cmplt_epi64_mask(rank[r][0], limit);
    if (halves == 2) kept[r] |= static_cast<unsigned>(_mm512_cmplt_epi64_mask(rank[r][1], limit)) << 8;
    kept[r] &= live;
  }
}

// Bit i set: vector i (experts 16 i .. 16 i + 15) belongs to a kept group (groups of vpg vectors).
inline uint32_t kept_vectors(unsigned kept_groups, int groups, int vpg) {
  uint32_t v = 0;
  const uint32_t run = (1u << vpg) - 1u;
  for (int g = 0; g < groups; ++g) v |= (0u - ((kept_groups >> g) & 1u)) & (run << (g * vpg));  // no branches
  return v;
}
// All 16 lanes when bit i of kept_vecs is set, else none.
inline __mmask16 lanes_if(uint32_t kept_vecs, int i) { return static_cast<__mmask16>(0u - ((kept_vecs >> i) & 1u)); }

// The k-th largest lane maximum over the kept vectors: <= the k-th best key of the kept experts.
inline float kept_lane_threshold(const float* key, uint32_t kept_vecs, int n, int k) {
  __m512 lane_max = _mm512_set1_ps(-kInf);
  for (int i = 0; i < n; i += 16)
    lane_max = _mm512_mask_max_ps(lane_max, lanes_if(kept_vecs, i / 16), lane_max, _mm512_loadu_ps(key + i));
  return lane_threshold(lane_max, k);
}

// The bit masks of one row's keys >= t in its kept vectors (bit e % 64 of sel[e / 64] for expert e; sel
// zero on entry): what the gather listing lists, and the many-candidates path sorts.
inline void candidate_masks(const float* key, uint32_t kept_vecs, __m512 t, uint64_t* sel) {
  for (uint32_t left = kept_vecs; left != 0; left &= left - 1) {
    const int i = __builtin_ctz(left);
    sel[i / 4] |= static_cast<uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(key + 16 * i), t, _CMP_GE_OQ)) << (16 * (i % 4));
  }
}

// A threshold t <= the k-th best key of the kept groups. The top two of every kept group are 2 keep
// distinct experts, so their k-th largest will do when 2 keep >= k (with 2 keep == k: the smallest
// second best); else the k-th largest lane maximum over the kept experts (lane_threshold).
inline float kept_threshold(Top2 top, unsigned kept, const float* key, uint32_t kept_vecs, int n, int keep, int k) {
  if (2 * keep == k) return _mm512_mask_reduce_min_ps(static_cast<__mmask16>(kept), top.b);
  if (2 * keep > k && 2 * keep <= 16) {
    const __mmask16 second = static_cast<__mmask16>(((1u << keep) - 1u) << keep);
    const __m512 both = _mm512_mask_expand_ps(_mm512_maskz_compress_ps(static_cast<__mmask16>(kept), top.a), second,
                                              _mm512_maskz_compress_ps(static_cast<__mmask16>(kept), top.b));
    return lane_threshold(_mm512_mask_mov_ps(_mm512_set1_ps(-kInf), first_lanes(static_cast<unsigned>(2 * keep)), both), k);
  }
  return kept_lane_threshold(key, kept_vecs, n, k);
}

// The shape of group_limited_rows: read from GroupLimitedShape at run time (RuntimeShape), or fixed at
// compile time (DeepSeekV3Shape), so that the compiler unrolls the loops over vectors, groups and kept
// vectors and drops the tests of the flags: the same bits, DeepSeek-V3 routing 1.15x as fast (bench/README.md,
// stop 13).
struct Dims {
  int n, groups, vpg, keep, k;  // experts, groups, vectors of 16 per group, groups kept, top-k
  bool top2, softmax, bias;     // GroupLimitedShape's top2 and softmax; bias: a selection bias is given
};
struct RuntimeShape {
  static Dims dims(const GroupLimitedShape& s) {
    return {s.n, s.groups, s.per_group / 16, s.keep, s.k, s.top2, s.softmax, s.bias != nullptr};
  }
};
// DeepSeek-V3 (and R1, V3.1): n_routed_experts 256, n_group 8, topk_group 4, num_experts_per_tok 8,
// scoring_func sigmoid, groups scored by the sum of their top two (Hugging Face config.json;
// configs/models/deepseek-v3.yaml), with the e_score_correction_bias (kBias) or without.
template <bool kBias>
struct DeepSeekV3Shape {
  static constexpr Dims dims(const GroupLimitedShape&) { return {256, 8, 2, 4, 8, true, false, kBias}; }
  static bool matches(const GroupLimitedShape& s) {
    const Dims d = dims(s);
    return s.n == d.n && s.groups == d.groups && s.per_group == 16 * d.vpg && s.keep == d.keep && s.k == d.k &&
           s.top2 == d.top2 && s.softmax == d.softmax && (s.bias != nullptr) == d.bias;
  }
};

// R rows of a fast shape (group_limited_fast_shape), every stage interleaving the rows (one row's
// chain alone would leave the core idle): the selection keys (into keys, [R, n]); each group's top two;
// the kept groups; a threshold and the candidates >= it; the candidates best first; weights
// sigmoid_f32 of the chosen logits (gathered from `scores` when the keys were scores), or with
// sh.softmax their softmax terms over the row (scores_at's: row max, then exp_sum in its fixed order).
template <int R, bool kCompress, class Shape = RuntimeShape, bool kL2 = false>  // kL2: RowPrefetch::l2_far
void group_limited_rows(const float* x, const GroupLimitedShape& sh, int32_t* idx, float* w, float* keys, float* scores) {
  const Dims d = Shape::dims(sh);
  const int n = d.n, k = d.k, vpg = d.vpg, blocks = (n + 63) / 64;
  const bool scored = d.bias || d.top2;
  // With sigmoid scores and keys s + bias, the scores s go to `scores` ([R, n]) too, so that the weights
  // are gathered from there instead of being computed again.
  const bool stored = scored && !d.softmax;
  __m512 lane_max[R];  // softmax: the row max, lane by lane
  for (int r = 0; r < R; ++r) lane_max[r] = _mm512_set1_ps(-kInf);
  for (int i = 0; i < n; i += 16)
    for (int r = 0; r < R; ++r) {
      // The same line of the row R ahead (or kFarBlocks R into L2): each load here feeds a long sigmoid
      // chain, so few would be in flight at once; prefetching spreads the next rows' misses over this
      // stage (never faults).
      prefetch_next<kL2>(x + (r + R) * n + i, x + (r + kFarBlocks * R) * n + i);
      const __m512 v = _mm512_loadu_ps(x + r * n + i);
      __m512 key = v;
      if (scored) {
        const __m512 s = sigmoid16(v);
        if (stored) _mm512_storeu_ps(scores + r * n + i, s);
        key = d.bias ? _mm512_add_ps(s, _mm512_loadu_ps(sh.bias + i)) : s;
      }
      if (d.softmax) lane_max[r] = _mm512_max_ps(lane_max[r], v);
      _mm512_storeu_ps(keys + r * n + i, key);
    }
  // Every group kept (plain top-k, TopKRouter's sigmoid path, or topk_group = groups): no group stage.
  const bool all_kept = d.keep == d.groups;
  Top2 top[R];
  unsigned kept[R];
  if (all_kept) {
    for (int r = 0; r < R; ++r) kept[r] = (1u << d.groups) - 1u;
  } else {
    group_top2<R>(keys, n, d.groups, vpg, top);
    __m512 score[R];
    for (int r = 0; r < R; ++r) score[r] = d.top2 ? _mm512_add_ps(top[r].a, top[r].b) : top[r].a;
    kept_groups<R>(score, d.groups, d.keep, kept);
  }
  uint32_t kept_vecs[R];
  __m512 t[R];
  for (int r = 0; r < R; ++r) {
    kept_vecs[r] = kept_vectors(kept[r], d.groups, vpg);
    t[r] = _mm512_set1_ps(all_kept ? kept_lane_threshold(keys + r * n, kept_vecs[r], n, k)
                                   : kept_threshold(top[r], kept[r], keys + r * n, kept_vecs[r], n, d.keep, k));
  }
  // The candidates >= t of the kept vectors only (keep * vpg of them in every row: a fixed trip count),
  // in increasing expert order: with kCompress each vector's compressed into the lanes after those before
  // it, kept group by kept group, else gathered once from their bit masks (bit e % 64 of sel[e / 64] for
  // expert e; which listing is faster depends on the CPU: simd.hpp). The compress listing makes no masks:
  // the many-candidates path makes its row's (candidate_masks), so the loop keeps only the compress's
  // work (a third fewer instructions a vector, stop 20).
  uint64_t sel[R][4] = {};
  Candidates cand[R];
  if constexpr (kCompress) {
    unsigned left[R];
    for (int r = 0; r < R; ++r) {
      left[r] = kept[r];
      cand[r] = {_mm512_setzero_si512(), _mm512_set1_ps(-kInf), 0u};
    }
    for (int j = 0; j < d.keep; ++j)
      for (int r = 0; r < R; ++r) {
        const int g = __builtin_ctz(left[r]);
        left[r] &= left[r] - 1;
        for (int v = 0; v < vpg; ++v) {
          const int i = vpg * g + v;
          const __m512 kv = _mm512_loadu_ps(keys + r * n + 16 * i);
          append_candidates(cand[r], kv, _mm512_cmp_ps_mask(kv, t[r], _CMP_GE_OQ), 16 * i);
        }
      }
  } else {
    for (int r = 0; r < R; ++r) {
      candidate_masks(keys + r * n, kept_vecs[r], t[r], sel[r]);
      cand[r] = gather_candidates(keys + r * n, sel[r], blocks);
    }
  }
  order_best_first<R>(cand);
  const __mmask16 out = first_lanes(static_cast<unsigned>(k));
  __m512i chosen[R];
  for (int r = 0; r < R; ++r) {
    int32_t* ix = idx + r * k;
    if (cand[r].c <= 16) {
      chosen[r] = cand[r].ci;
      _mm512_mask_storeu_epi32(ix, out, chosen[r]);
    } else {  // many candidates (ties, extreme rows): sorted insertion
      if constexpr (kCompress) candidate_masks(keys + r * n, kept_vecs[r], t[r], sel[r]);
      insert_candidates(keys + r * n, sel[r], blocks, k, ix);
      chosen[r] = _mm512_maskz_loadu_epi32(out, ix);
    }
  }
  float m[R];
  double inv[R];
  if (d.softmax)
    for (int r = 0; r < R; ++r) {
      m[r] = _mm512_reduce_max_ps(lane_max[r]);
      inv[r] = 1.0 / avx512_kernels().exp_sum(x + r * n, n, m[r], nullptr);
    }
  if (k <= 8 && R % 2 == 0) {  // two rows' weights in one register: half the gathers and sigmoids
    const __mmask16 out2 = static_cast<__mmask16>(out | (out << 8));
    for (int r = 0; r < R; r += 2) {
      const __m512i both = _mm512_inserti32x8(
          chosen[r], _mm512_castsi512_si256(_mm512_add_epi32(chosen[r + 1], _mm512_set1_epi32(n))), 1);
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), out2, both, (stored ? scores : x) + r * n, 4);
      const __m512 s = stored ? v
                   : d.softmax ? times_inv_halves(softmax_term16(v, _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(m[r]),
                                                                                          _mm512_set1_ps(m[r + 1]))),
                                                    inv[r], inv[r + 1])
                                  : sigmoid16(v);
      const __m512 wv = finish_weights_pair8(_mm512_maskz_mov_ps(out2, s), sh.normalize, sh.scaling);
      _mm512_mask_storeu_ps(w + r * k, out, wv);
      _mm512_mask_storeu_ps(w + (r + 1) * k, out, _mm512_castps256_ps512(_mm512_extractf32x8_ps(wv, 1)));
    }
    return;
  }
  for (int r = 0; r < R; ++r) {
    const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), out, chosen[r], (stored ? scores : x) + r * n, 4);
    const __m512 s = _mm512_maskz_mov_ps(  // lanes >= k: 0, for the sum
        out, stored ? v : d.softmax ? times_inv(softmax_term16(v, _mm512_set1_ps(m[r])), inv[r]) : sigmoid16(v));
    _mm512_mask_storeu_ps(w + r * k, out, finish_weights16(s, sh.normalize, sh.scaling));
  }
}

template <bool kCompress, bool kL2>
void group_limited_all_rows(const float* x, int rows, const GroupLimitedShape& sh, int32_t* idx, float* w, float* keys,
                            float* scores) {
  int r = 0;
  const auto rows4 = DeepSeekV3Shape<true>::matches(sh)    ? group_limited_rows<4, kCompress, DeepSeekV3Shape<true>, kL2>
                     : DeepSeekV3Shape<false>::matches(sh) ? group_limited_rows<4, kCompress, DeepSeekV3Shape<false>, kL2>
                                                           : group_limited_rows<4, kCompress, RuntimeShape, kL2>;
  for (; r + 4 <= rows; r += 4) rows4(x + r * sh.n, sh, idx + r * sh.k, w + r * sh.k, keys, scores);
  for (; r < rows; ++r) group_limited_rows<1, kCompress>(x + r * sh.n, sh, idx + r * sh.k, w + r * sh.k, keys, scores);
}

}  // namespace

void group_limited_avx512(const float* x, int rows, const GroupLimitedShape& sh, int32_t* idx, float* w,
                          TopKScratch& scratch) {
  if (!group_limited_fast_shape(sh)) return scalar_kernels().group_limited(x, rows, sh, idx, w, scratch);
  // scratch.key and scratch.score: [4, n] each
  const bool compress = candidate_listing() == CandidateListing::compress, l2 = row_prefetch() == RowPrefetch::l2_far;
  const auto all_rows = compress ? (l2 ? group_limited_all_rows<true, true> : group_limited_all_rows<true, false>)
                                 : (l2 ? group_limited_all_rows<false, true> : group_limited_all_rows<false, false>);
  all_rows(x, rows, sh, idx, w, scratch.key.data(), scratch.score.data());
}

}  // namespace moesim::routing

#pragma GCC pop_options
