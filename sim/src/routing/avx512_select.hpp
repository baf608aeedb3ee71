// routing/avx512_select.hpp: the selection half of the AVX-512 building blocks (private to
// kernels_avx512*.cpp): lane shuffles and butterflies, the bitonic sort of 16 lanes, thresholds, the
// candidate lists of a row (bit masks to expert ids and keys) and their ordering best first, and the
// sorted insertion for rows with more than 16 candidates. The lane arithmetic (exps, sums, weights) is in
// avx512_inline.hpp, which this header includes first and whose pragma region (AVX-512 target,
// fp-contract=off) it lives in: a kernel file includes this header first and ends with
// `#pragma GCC pop_options`.
#pragma once
#include "routing/avx512_inline.hpp"  // first: it opens the AVX-512 pragma region

namespace moesim::routing::avx512 {

// Lane i <- lane i ^ j.
inline __m512 swap_lanes(__m512 v, int j) {
  return _mm512_permutexvar_ps(_mm512_xor_si512(iota32(), _mm512_set1_epi32(j)), v);
}
inline __m512i swap_lanes(__m512i v, int j) {
  return _mm512_permutexvar_epi32(_mm512_xor_si512(iota32(), _mm512_set1_epi32(j)), v);
}

// Within each run of pg lanes (pg = 1, 2, 4, 8, 16): the run's max in every lane, by a butterfly.
inline __m512 segment_max(__m512 v, int pg) {
  for (int j = 1; j < pg; j *= 2) v = _mm512_max_ps(v, swap_lanes(v, j));
  return v;
}
// The first lane of every run of pg lanes (pg divides 16).
inline __mmask16 run_starts(int pg) {
  __mmask16 starts = 0;
  for (int lane = 0; lane < 16; lane += pg) starts = static_cast<__mmask16>(starts | (1u << lane));
  return starts;
}

// Blend masks of the bitonic network below: stage (p, j) for p = 2, 4, 8, 16 and j = p/2 .. 1; lane i
// takes the max when (i & j) == 0 differs from (i & p) == 0.
struct SortMasks {
  unsigned short mask[10];
  int j[10];
};
constexpr SortMasks make_sort_masks() {
  SortMasks m{};
  int stage = 0;
  for (int p = 2; p <= 16; p *= 2)
    for (int j = p / 2; j >= 1; j /= 2, ++stage) {
      unsigned take_max = 0;
      for (int i = 0; i < 16; ++i)
        if (((i & j) == 0) != ((i & p) == 0)) take_max |= 1u << i;
      m.mask[stage] = static_cast<unsigned short>(take_max);
      m.j[stage] = j;
    }
  return m;
}
inline constexpr SortMasks kSortMasks = make_sort_masks();

// swap_lanes(v, J) for a constant J by immediate shuffles (within 128-bit lanes for J = 1, 2, of
// 128-bit lanes for J = 4, 8), cheaper than a variable permute.
template <int J>
inline __m512 swap_lanes_by(__m512 v) {
  static_assert(J == 1 || J == 2 || J == 4 || J == 8);
  if constexpr (J == 1) return _mm512_permute_ps(v, 0xB1);        // lanes (1, 0, 3, 2) in each 128 bits
  else if constexpr (J == 2) return _mm512_permute_ps(v, 0x4E);   // (2, 3, 0, 1)
  else if constexpr (J == 4) return _mm512_shuffle_f32x4(v, v, 0xB1);  // 128-bit lanes (1, 0, 3, 2)
  else return _mm512_shuffle_f32x4(v, v, 0x4E);                        // (2, 3, 0, 1)
}
template <int J>
inline __m512i swap_lanes_by(__m512i v) {
  return _mm512_castps_si512(swap_lanes_by<J>(_mm512_castsi512_ps(v)));
}

// f(std::integral_constant<int, stage>) for the 10 stages of the bitonic network, in order.
template <class F>
inline void for_each_sort_stage(F&& f) {
  [&]<int... S>(std::integer_sequence<int, S...>) { (f(std::integral_constant<int, S>{}), ...); }(
      std::make_integer_sequence<int, 10>{});
}

// The 16 lanes sorted ascending (bitonic network, 10 compare-exchange stages, each a shuffle, a min and
// a masked max).
inline __m512 sort16(__m512 v) {
  for_each_sort_stage([&](auto stage) {
    const __m512 w = swap_lanes_by<kSortMasks.j[stage]>(v);
    v = _mm512_mask_max_ps(_mm512_min_ps(v, w), kSortMasks.mask[stage], v, w);
  });
  return v;
}

// Threshold of the top k (k <= 16) from the lane maxima: the k-th largest of them (sort16), <= the
// k-th best key since the k largest lane maxima are k distinct experts.
inline float lane_threshold(__m512 lane_max, int k) {
  alignas(64) float sorted[16];
  _mm512_store_ps(sorted, sort16(lane_max));
  return sorted[16 - k];
}

// The experts (byte ids, n <= 256) of the set bits of sel[0, blocks) (bit i of sel[q]: expert 64 q + i),
// in increasing order, in the first bytes of the result (the first 64 of them); count = how many in all.
inline __m512i candidate_bytes(const uint64_t* sel, int blocks, unsigned& count) {
  const __m512i iota8 = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44,
                                        43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24,
                                        23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  __m512i acc = _mm512_setzero_si512();
  unsigned off = 0;
  for (int q = 0; q < blocks; ++q) {  // independent compress/expand per block, merged by OR
    const unsigned pop = static_cast<unsigned>(__builtin_popcountll(sel[q]));
    const __mmask64 at = off >= 64 ? 0 : (_bzhi_u64(~0ull, pop) << off);
    const __m512i ids = _mm512_add_epi8(iota8, _mm512_set1_epi8(static_cast<char>(64 * q)));
    acc = _mm512_or_si512(acc, _mm512_maskz_expand_epi8(at, _mm512_maskz_compress_epi8(sel[q], ids)));
    off += pop;
  }
  count = off;
  return acc;
}

// Candidates of one row: expert ids ci (first c lanes, c <= 16) and their keys ck (-inf beyond c).
struct Candidates {
  __m512i ci;
  __m512 ck;
  unsigned c;
};

inline Candidates gather_candidates(const float* key, const uint64_t* sel, int blocks) {
  Candidates out;
  out.ci = _mm512_cvtepu8_epi32(_mm512_castsi512_si128(candidate_bytes(sel, blocks, out.c)));
  out.ck = _mm512_mask_i32gather_ps(_mm512_set1_ps(-kInf), first_lanes(out.c), out.ci, key, 4);
  return out;
}

// Appends the lanes m of kv (experts base + lane) to c, after its c.c live lanes, in increasing lane
// order: the listing gather_candidates makes, one vector at a time (c starts as {0, -inf, 0}). Lanes past
// 16 are counted in c.c but not kept; the many-candidates path lists those rows from their masks.
inline void append_candidates(Candidates& c, __m512 kv, __mmask16 m, int base) {
  const unsigned pop = static_cast<unsigned>(__builtin_popcount(m));
  const __mmask16 at = c.c >= 16 ? __mmask16(0) : static_cast<__mmask16>(((1u << pop) - 1u) << c.c);
  c.ck = _mm512_mask_expand_ps(c.ck, at, _mm512_maskz_compress_ps(m, kv));
  c.ci = _mm512_mask_expand_epi32(c.ci, at, _mm512_maskz_compress_epi32(m, _mm512_add_epi32(iota32(), _mm512_set1_epi32(base))));
  c.c += pop;
}

// For R rows of candidates (c <= 16 each): the permutation inv of each row that lists its lanes best
// first (higher key, then lower lane = lower expert): rank_j = #{i: k_i > k_j} + #{i < j: k_i == k_j}
// (the second term by conflict detection on the key bits, +0.0 folding -0 into +0), a permutation of
// 0..15 since the padding lanes are -inf; then inv[rank_j] = j. Rows interleaved for throughput.
// Out of line (rare): inlined, it made order_best_first too big to inline, and the call then cost
// the spills of every live vector register around it.
template <int R>
__attribute__((noinline, cold)) void best_first(const Candidates* cand, __m512i* inv) {
  alignas(64) float kb[R][16];
  __m512i rank[R];
  for (int r = 0; r < R; ++r) {
    const __m512 key = _mm512_add_ps(cand[r].ck, _mm512_setzero_ps());
    _mm512_store_ps(kb[r], key);
    rank[r] = _mm512_popcnt_epi32(_mm512_conflict_epi32(_mm512_castps_si512(key)));
  }
  const __m512i one = _mm512_set1_epi32(1);
  for (int i = 0; i < 16; ++i)
    for (int r = 0; r < R; ++r)
      rank[r] = _mm512_mask_add_epi32(rank[r], _mm512_cmp_ps_mask(_mm512_set1_ps(kb[r][i]), cand[r].ck, _CMP_GT_OQ),
                                      rank[r], one);
  alignas(64) int32_t rb[R][16];
  for (int r = 0; r < R; ++r) {
    _mm512_store_si512(rb[r], rank[r]);
    inv[r] = _mm512_setzero_si512();  // lane rank[0] keeps 0
  }
  for (int j = 1; j < 16; ++j)
    for (int r = 0; r < R; ++r)
      inv[r] = _mm512_mask_mov_epi32(inv[r], _mm512_cmpeq_epi32_mask(iota32(), _mm512_set1_epi32(rb[r][j])),
                                     _mm512_set1_epi32(j));
}

// Puts the candidates of R rows best first, in place (ck and ci permuted alike; the padding lanes stay
// -inf at the end). Each row sorts one integer per lane, descending: the key's bits as a signed integer
// of the same order (+0.0 added first, so that -0 and +0 are one key; a negative key's lower 31 bits
// flipped), its low 4 bits replaced by 15 - lane, so that of two equal keys the lower lane (the lower
// expert, and a live lane before a padding one) comes first. The order is exact unless two live keys
// differ only in those 4 bits; then (and for equal keys) two neighbouring live lanes of the sorted
// integers agree above bit 4, and such a row (rare) is ordered from its original lanes by best_first.
// The network is a bitonic one, each stage a shuffle, a min and a masked max; the sorted low bits
// give the lanes to permute ck and ci by. (Where sorting (key, expert) pairs takes two shuffles, a
// compare and two blends per stage, three of them on port 5 of Intel cores.) Rows interleaved for
// throughput.
template <int R>
__attribute__((always_inline)) inline void order_best_first(Candidates* cand) {
  const __m512i code = _mm512_sub_epi32(_mm512_set1_epi32(15), iota32());  // 15 - lane
  __m512i v[R];
  for (int r = 0; r < R; ++r) {
    const __m512i b = _mm512_castps_si512(_mm512_add_ps(cand[r].ck, _mm512_setzero_ps()));
    // Ternary logic tables from A = 0xF0, B = 0xCC, C = 0xAA: b ^ (sign ? 0x7fffffff : 0), then (that & ~15) | code.
    const __m512i ord = _mm512_ternarylogic_epi32(b, _mm512_srai_epi32(b, 31), _mm512_set1_epi32(0x7fffffff), 0xF0 ^ (0xCC & 0xAA));
    v[r] = _mm512_ternarylogic_epi32(ord, _mm512_set1_epi32(~15), code, (0xF0 & 0xCC) | 0xAA);
  }
  for_each_sort_stage([&](auto stage) {
    constexpr int j = kSortMasks.j[stage];
    const __mmask16 keeps_max = static_cast<__mmask16>(~kSortMasks.mask[stage]);  // descending
    for (int r = 0; r < R; ++r) {
      const __m512i w = swap_lanes_by<j>(v[r]);
      v[r] = _mm512_mask_max_epi32(_mm512_min_epi32(v[r], w), keeps_max, v[r], w);
    }
  });
  bool tied[R], any = false;
  for (int r = 0; r < R; ++r) {
    const unsigned c = cand[r].c;
    const __m512i next = _mm512_alignr_epi32(_mm512_setzero_si512(), v[r], 1);
    const __mmask16 pairs = c > 0 ? first_lanes(c - 1) : __mmask16(0);  // lanes i, i + 1 both live
    tied[r] = _mm512_mask_cmplt_epu32_mask(pairs, _mm512_xor_si512(v[r], next), _mm512_set1_epi32(16)) != 0;
    any = any || tied[r];
  }
  __m512i inv[R];
  if (any) best_first<R>(cand, inv);  // from the original lanes, still in cand
  for (int r = 0; r < R; ++r) {
    const __m512i perm = tied[r] ? inv[r] : _mm512_andnot_si512(v[r], _mm512_set1_epi32(15));  // 15 - low bits
    cand[r].ck = _mm512_permutexvar_ps(perm, cand[r].ck);
    cand[r].ci = _mm512_permutexvar_epi32(perm, cand[r].ci);
  }
}

// The best `size` <= k (k <= 16) keys seen so far, best first, with their experts in idx. Offered in
// increasing expert order, so an equal key offered later never displaces an earlier one.
struct SortedTop {
  float best[16];
  int size = 0;
  void offer(float v, int32_t e, int k, int32_t* idx) {
    if (size == k) {
      if (!(v > best[k - 1])) return;
      --size;
    }
    int p = size++;
    while (p > 0 && v > best[p - 1]) {
      best[p] = best[p - 1];
      idx[p] = idx[p - 1];
      --p;
    }
    best[p] = v;
    idx[p] = e;
  }
};

// Sorted insertion of every candidate of sel: the top k (k <= 16) of key, best first, into idx. For
// rows with more than 16 candidates.
inline void insert_candidates(const float* key, const uint64_t* sel, int blocks, int k, int32_t* idx) {
  SortedTop top;
  for (int q = 0; q < blocks; ++q)
    for (uint64_t b = sel[q]; b != 0; b &= b - 1) {
      const int e = 64 * q + __builtin_ctzll(b);
      top.offer(key[e], e, k, idx);
    }
}

}  // namespace moesim::routing::avx512
