// core/clones.hpp (internal): MOESIM_X86_64_V3_CLONE, for the portable hot loops.
//
// The binary targets baseline x86-64, where std::fma is a call into libm (no FMA instruction) and loops
// vectorise to SSE2 only. A function marked MOESIM_X86_64_V3_CLONE is compiled twice, for x86-64-v3
// (AVX2, FMA, BMI2: Haswell and later, Zen 1 and later) and for the baseline, and the loader picks one
// (GCC's target_clones, an ifunc). Every operation these functions use is correctly rounded in both
// (fma included, and their files turn fp contraction off), so both clones give the same bits; the
// AVX-512 kernels are tested against the clone this CPU picks.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define MOESIM_X86_64_V3_CLONE __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MOESIM_X86_64_V3_CLONE
#endif
