// workload/trace_file.cpp: pread-based file access and the checks every trace reader shares.
#include "workload/trace_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace moesim::trace {

namespace {
constexpr int64_t kChunkBytes = int64_t{1} << 20;  // sequential scans read 1 MiB at a time
}  // namespace

TraceFile::TraceFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(path_, "", "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(path_, "", "", "not a regular file");
  }
  size_ = static_cast<int64_t>(st.st_size);
}

TraceFile::~TraceFile() {
  if (fd_ >= 0) ::close(fd_);
}

void TraceFile::read_at(int64_t offset, int64_t n, std::string& out) const {
  MOESIM_CHECK(offset >= 0 && n >= 0 && offset + n <= size_, path_ + ": read beyond the file");
  out.resize(static_cast<size_t>(n));
  int64_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out.data() + done, static_cast<size_t>(n - done), offset + done);
    if (got < 0 && errno == EINTR) continue;
    // The file was validated at open: a short read now means it changed underneath us.
    MOESIM_CHECK(got > 0, path_ + ": read failed at byte " + std::to_string(offset + done) +
                              " (was the trace modified during the run?)");
    done += got;
  }
}

ChunkReader::ChunkReader(const TraceFile& f, int64_t begin, int64_t end)
    : f_(f), next_(begin), end_(end < 0 ? f.size() : end), chunk_begin_(begin) {}

bool ChunkReader::fill() {
  if (pos_ < buf_.size()) return true;
  if (next_ >= end_) return false;
  chunk_begin_ = next_;
  f_.read_at(next_, std::min(kChunkBytes, end_ - next_), buf_);
  next_ += static_cast<int64_t>(buf_.size());
  pos_ = 0;
  return true;
}

bool ChunkReader::line(std::string& out) {
  out.clear();
  if (!fill()) return false;
  while (fill()) {
    const char* begin = buf_.data() + pos_;
    const size_t left = buf_.size() - pos_;
    const void* nl = std::memchr(begin, '\n', left);
    const size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - begin) : left;
    out.append(begin, n);
    pos_ += n;
    if (nl) {
      ++pos_;
      break;
    }
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return true;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t check_count(double v, const std::string& text, const std::string& file, const std::string& field) {
  if (std::isnan(v)) throw Error(file, field, text, "expert count is NaN");
  if (v < 0) throw Error(file, field, text, "expert count is negative");
  if (!std::isfinite(v) || v > 9.0e15) throw Error(file, field, text, "expert count is too large");
  if (v != std::floor(v)) throw Error(file, field, text, "expert count is not a whole number");
  return static_cast<int64_t>(v);
}

void check_cell_hits(int64_t hits, int top_k, const std::string& file, const std::string& field) {
  MOESIM_CHECK(top_k >= 1, "check_cell_hits needs the model's top_k");
  if (hits <= kMaxReplayTokensPerStep * top_k) return;
  throw Error(file, field, std::to_string(hits) + " expert hits",
              "one step and layer would replay as more than " + std::to_string(kMaxReplayTokensPerStep) +
                  " tokens of top_k " + std::to_string(top_k) + " (" + std::to_string(kMaxReplayTokensPerStep * top_k) +
                  " hits), the most moesim replays per step: a corrupt count?");
}

int64_t first_moe_row(int64_t rows, int model_layers, int first_dense_layers) {
  if (rows == model_layers - first_dense_layers) return 0;
  if (first_dense_layers > 0 && rows == model_layers) return first_dense_layers;
  return -1;
}

std::unique_ptr<CountsSource> open_counts(const std::string& format, const std::string& path, int experts, int top_k) {
  if (format == "sglang_json") return open_sglang_json(path, experts, top_k);
  if (format == "trtllm") return open_trtllm(path, experts, top_k);
  throw Error(path, "format", format, "unknown trace format for trace_counts; valid: sglang_json, trtllm");
}

int first_trace_layer(int64_t trace_layers, const std::string& layers_field, const WorkloadInput& in,
                      const std::string& trace_path) {
  const int moe_layers = in.model_layers - in.first_dense_layers;
  MOESIM_CHECK(in.num_layers <= moe_layers, "more MoE layers simulated than the model has");
  if (const int64_t first = first_moe_row(trace_layers, in.model_layers, in.first_dense_layers); first >= 0)
    return static_cast<int>(first);
  const std::string blocks =
      in.first_dense_layers > 0
          ? " or one per block (" + std::to_string(in.model_layers) + ", the " + std::to_string(in.first_dense_layers) +
                " leading dense blocks included)"
          : "";
  throw Error(trace_path, layers_field, std::to_string(trace_layers) + " layers",
              "the model has " + std::to_string(moe_layers) + " MoE layers: a trace must hold one layer per MoE layer" +
                  blocks + "; is it a trace of another model?");
}

void check_steps(int64_t available, const std::string& length, const WorkloadInput& in, const std::string& trace_path) {
  if (in.steps <= available) return;
  throw Error(in.file, "run.steps", std::to_string(in.steps),
              "exceeds the trace " + trace_path + ": it holds " + length);
}

}  // namespace moesim::trace
