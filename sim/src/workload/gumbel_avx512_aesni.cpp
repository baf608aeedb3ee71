// workload/gumbel_avx512_aesni.cpp: the AVX-512 generator for CPUs with AVX-512 but without VAES
// (Skylake-SP, Cascade Lake, Cooper Lake): the same body as gumbel_avx512.cpp (gumbel_avx512_body.inc),
// the ARS rounds by 128-bit AES-NI instructions. The same bits
// (unit tests GumbelRow.*, which run it wherever AVX-512 F/BW/DQ/VL and AES-NI are).
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "workload/synthetic.hpp"  // before the target pragma: its inline functions stay plain x86-64

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,aes")

namespace moesim::workload_detail {

#define MOESIM_GUMBEL_VAES 0
#define MOESIM_GUMBEL_ROWS gumbel_rows_avx512_aesni
#define MOESIM_GUMBEL_ROW gumbel_row_avx512_aesni
#include "workload/gumbel_avx512_body.inc"

}  // namespace moesim::workload_detail

#pragma GCC pop_options

namespace moesim::workload_detail {

bool gumbel_avx512_aesni_supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma") && __builtin_cpu_supports("aes");
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace moesim::workload_detail
