#include "moesim/parallel.hpp"

#include <algorithm>

namespace moesim {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (auto& w : workers_) w.join();
}

// Claims chunks one at a time until none are left. Which thread runs a chunk varies; the chunk
// boundaries never do.
void ThreadPool::run_chunks() {
  for (;;) {
    int64_t c;
    const std::function<void(int64_t, int64_t)>* job;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (job_ == nullptr || next_chunk_ >= chunks_) return;
      c = next_chunk_++;
      job = job_;
    }
    const int64_t begin = c * grain_;
    const int64_t end = std::min(n_, begin + grain_);
    try {
      (*job)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      if (!error_) error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (++done_chunks_ == chunks_) cv_done_.notify_all();
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_work_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunks();
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain <= 0) grain = n;
  const int64_t chunks = chunk_count(n, grain);
  if (workers_.empty() || chunks == 1) {
    for (int64_t c = 0; c < chunks; ++c) fn(c * grain, std::min(n, (c + 1) * grain));
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    n_ = n;
    grain_ = grain;
    next_chunk_ = 0;
    chunks_ = chunks;
    done_chunks_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  cv_work_.notify_all();
  run_chunks();
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, [&] { return done_chunks_ == chunks_; });
    job_ = nullptr;
    err = error_;
    error_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace moesim
