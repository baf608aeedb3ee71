// workload/ars_aesni.cpp: ARS-5 of up to 16 counters with AES-NI (one AESENC per round and counter), and
// the run-time choice between it and the software rounds of ars.hpp (the same bits: tests/unit/test_ars.cpp).
#include "workload/ars.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MOESIM_HAVE_AESNI_PATH 1
#include <immintrin.h>
#endif

namespace moesim::ars {

#ifdef MOESIM_HAVE_AESNI_PATH
#pragma GCC push_options
#pragma GCC target("aes,sse4.1")

void ars_counters_aesni(uint32_t q0, uint32_t c1, uint32_t c2, uint32_t c3, const RoundKeys& rk, int n, uint32_t* out) {
  __m128i k[kRounds + 1];
  for (int i = 0; i <= kRounds; ++i) k[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rk[static_cast<size_t>(i)].data()));
  __m128i v[16];
  for (int i = 0; i < n; ++i)
    v[i] = _mm_xor_si128(_mm_setr_epi32(static_cast<int>(q0 + static_cast<uint32_t>(i)), static_cast<int>(c1), static_cast<int>(c2), static_cast<int>(c3)), k[0]);
  for (int r = 1; r < kRounds; ++r)
    for (int i = 0; i < n; ++i) v[i] = _mm_aesenc_si128(v[i], k[r]);
  for (int i = 0; i < n; ++i)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * i), _mm_aesenclast_si128(v[i], k[kRounds]));
}

#pragma GCC pop_options

bool aesni_supported() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
  }();
  return ok;
}
#else
void ars_counters_aesni(uint32_t, uint32_t, uint32_t, uint32_t, const RoundKeys&, int, uint32_t*) {}
bool aesni_supported() { return false; }
#endif

void ars_counters(uint32_t q0, uint32_t c1, uint32_t c2, uint32_t c3, const RoundKeys& rk, int n, uint32_t* out) {
  if (aesni_supported()) return ars_counters_aesni(q0, c1, c2, c3, rk, n, out);
  for (int i = 0; i < n; ++i) {
    const Block w = ars_portable({q0 + static_cast<uint32_t>(i), c1, c2, c3}, rk);
    for (int j = 0; j < 4; ++j) out[4 * i + j] = w[static_cast<size_t>(j)];
  }
}

}  // namespace moesim::ars
