// moesim/parallel.hpp: a small fixed thread pool with deterministic static chunking.
// Work is split into chunks whose boundaries depend only on (n, grain), never on the thread count,
// so any per-chunk result is identical whatever the number of threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace moesim {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) in chunks of `grain` items (the last may be shorter).
  // Blocks until all chunks are done. Chunks run concurrently; fn must not write shared state
  // except per-chunk slots. Exceptions thrown by fn are rethrown here (the first one).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Number of chunks parallel_for(n, grain, ...) makes.
  static int64_t chunk_count(int64_t n, int64_t grain) { return grain <= 0 ? 0 : (n + grain - 1) / grain; }

 private:
  void worker_loop();
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0, grain_ = 0, next_chunk_ = 0, chunks_ = 0, done_chunks_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace moesim
