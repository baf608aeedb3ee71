// workload/gumbel_avx512.cpp: the AVX-512 twin of gumbel_row_scalar (synthetic.cpp), chosen at run time.
//
// ARS-5 (ars.hpp) with VAES: one register holds 4 counters (16 values), and one instruction does an AES
// round of all four. Then the same IEEE operations as RowUniforms::to_unit_open and gumbel_noise
// (synthetic.hpp), lane by lane, nothing fused (fp-contract=off; signs folded into fnmsub and fnmadd,
// exact): the values are bit-identical to the scalar path (unit tests GumbelRow.*). Rows of 16 P values
// (P <= 32) are one stream of full registers across row ends, made 4 at a time with the next 4's AES
// rounds issued between their uniforms and their logs; other rows go 8 registers at a time with masks,
// their rounds side by side, then their log stages. Per 16 values: 5 AES instructions and 23 vector
// operations for the uniforms and logs; the rounds and 10 FMAs run on Zen 4's two multiply pipes, the
// rest on its adders or either.
// The code is gumbel_avx512_body.inc, shared with gumbel_avx512_aesni.cpp (AVX-512 without VAES).
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "workload/synthetic.hpp"  // before the target pragma: its inline functions stay plain x86-64

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,aes,vaes")

namespace moesim::workload_detail {

#define MOESIM_GUMBEL_VAES 1
#define MOESIM_GUMBEL_ROWS gumbel_rows_avx512
#define MOESIM_GUMBEL_ROW gumbel_row_avx512
#include "workload/gumbel_avx512_body.inc"

}  // namespace moesim::workload_detail

#pragma GCC pop_options

namespace moesim::workload_detail {

// The AES-NI variant's CPU features (gumbel_avx512_aesni.cpp) and VAES.
bool gumbel_avx512_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok =
      gumbel_avx512_aesni_supported() && __builtin_cpu_supports("vaes");
  return ok;
#else
  return false;
#endif
}

}  // namespace moesim::workload_detail
