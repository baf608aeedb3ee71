// workload/huge_pages.hpp (internal): asks the kernel to back a large buffer with 2 MB pages.
//
// A batch of router scores is tens of MB ([tokens, experts] fp32, e.g. 32768 x 256 = 32 MB) and is
// streamed row by row; with 4 KB pages every 4 rows of 1 KB cross a page, and the TLB misses cost the
// routing kernels a fifth of their time on the machine of bench/README.md. Linux's transparent huge pages
// in "madvise" mode (Debian's default) only apply where madvise(MADV_HUGEPAGE) asked for them, and only
// to pages not touched yet, so callers advise a buffer right after allocating it. A hint: nothing
// changes if the kernel declines, and elsewhere it does nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace moesim::workload_detail {

inline constexpr size_t kHugePageBytes = size_t{1} << 21;

// The 2 MB-aligned part of [p, p + bytes), if any, gets MADV_HUGEPAGE.
inline void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t last = (begin + bytes) & ~(kHugePageBytes - 1);
  if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace moesim::workload_detail
