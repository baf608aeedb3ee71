// workload/trace_file.hpp (internal): what every trace reader shares. A trace is never loaded whole:
// readers scan it once at open (validating every value and keeping an index of byte offsets) and then
// read the slice of one (step, layer) on demand with pread, which needs no lock and no shared file
// position, so concurrent replays cannot disturb each other.
#pragma once

#include "moesim/workload.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::trace {

// A read-only file; read_at is safe to call from several threads at once.
class TraceFile {
 public:
  explicit TraceFile(std::string path);  // throws Error(path, "", "", "cannot open: ...")
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }
  // Reads bytes [offset, offset + n) into out (resized to n). The range must lie inside the file.
  void read_at(int64_t offset, int64_t n, std::string& out) const;

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// Sequential reading in chunks, with the absolute offset of every byte (for the index).
class ChunkReader {
 public:
  explicit ChunkReader(const TraceFile& f, int64_t begin = 0, int64_t end = -1);
  bool at_end() { return !fill(); }
  char peek() { return fill() ? buf_[pos_] : '\0'; }
  char get() { return fill() ? buf_[pos_++] : '\0'; }
  int64_t offset() const { return chunk_begin_ + static_cast<int64_t>(pos_); }
  // Reads up to and excluding '\n' (dropping a trailing '\r'); false at the end of the range.
  bool line(std::string& out);

 private:
  bool fill();
  const TraceFile& f_;
  int64_t next_ = 0, end_ = 0, chunk_begin_ = 0;
  std::string buf_;
  size_t pos_ = 0;
};

// "[1, 2, 3]"
std::string shape_text(const std::vector<int64_t>& shape);

// A recorded expert count: a finite whole number >= 0. Throws Error(file, field, text, ...) otherwise.
int64_t check_count(double v, const std::string& text, const std::string& file, const std::string& field);

// The most tokens one replayed (step, layer) may hold: 2^21 = 2,097,152, i.e. 256 data-parallel ranks
// each running a full chunk of SGLang's default --chunked-prefill-size (8192 tokens) in one forward pass.
// A counts trace becomes ceil(hits / top_k) tokens per cell and the assignment table takes about
// 9 bytes per slot (id, weight, drop flag), so this bounds one replayed batch at ~150 MB for top-8;
// a larger count is a corrupt or mis-converted trace, refused rather than allocated (std::bad_alloc).
inline constexpr int64_t kMaxReplayTokensPerStep = int64_t{1} << 21;

// Throws Error(file, field, ...) when `hits` expert hits of one (step, layer) would replay as more than
// kMaxReplayTokensPerStep tokens of top_k experts each; `hits` may be anything up to INT64_MAX.
void check_cell_hits(int64_t hits, int top_k, const std::string& file, const std::string& field);

// The trace layer that MoE layer 0 reads. A trace must have one layer per MoE layer of the model (MoE
// layer l reads trace layer l), or one per block, dense blocks included, as SGLang records them (MoE
// layer l reads trace layer first_dense_layers + l). Any other count is an Error naming the trace file,
// `layers_field` (where the trace keeps its layers) and the count: a trace of another model.
int first_trace_layer(int64_t trace_layers, const std::string& layers_field, const WorkloadInput& in,
                      const std::string& trace_path);
// The rule alone: the row that MoE layer 0 uses among `rows` rows (0, or first_dense_layers when there is
// one row per block), or -1 when `rows` is neither count. Used by first_trace_layer and by the placement
// weights read from a file or a trace (config/placement_weights.cpp), each with its own message.
int64_t first_moe_row(int64_t rows, int model_layers, int first_dense_layers);

// Throws Error(in.file, "run.steps", ...) when run.steps exceeds the trace's `available` steps; `length`
// says how long the trace is, e.g. "12 steps".
void check_steps(int64_t available, const std::string& length, const WorkloadInput& in, const std::string& trace_path);

// Per-step, per-layer expert counts [steps][layers][experts] (SGLang logical_count, TensorRT-LLM).
class CountsSource {
 public:
  virtual ~CountsSource() = default;
  int64_t steps = 0, layers = 0, experts = 0;
  std::string layers_field;  // where the trace keeps its layers, for errors: "logical_count[0]", ...
  // out: [experts] hits of every expert at (step, trace layer). Values were validated at open.
  virtual void read(int64_t step, int64_t layer, std::vector<int64_t>& out) const = 0;
};

// Per-token top-k expert ids [layers, tokens, k]; kNoExpert (-1) marks an empty slot.
class TokensSource {
 public:
  virtual ~TokensSource() = default;
  int64_t layers = 0, tokens = 0;
  int k = 0;                 // equals the model's top_k (checked at open)
  std::string layers_field;  // where the trace keeps its layers, for errors: "shape", "layer"
  // out: [n, k] ids of tokens [first, first + n) at trace layer `layer`. Values were validated at open.
  virtual void read(int64_t layer, int64_t first, int64_t n, std::vector<int32_t>& out) const = 0;
};

// Openers; every bad input throws Error(file, field, value, problem). Each checks the trace's experts
// against num_experts (token readers: every id) and its k against top_k (token readers: the ids per
// token; open_trtllm: meta_info.json's num_experts_per_token); counts readers bound every cell's hits
// with check_cell_hits.
std::unique_ptr<CountsSource> open_sglang_json(const std::string& path, int num_experts, int top_k);
// path: the statistics directory, or its meta_info.json; the rank*.safetensors next to it are summed.
std::unique_ptr<CountsSource> open_trtllm(const std::string& path, int num_experts, int top_k);
// A per-step expert-count trace in `format` ("sglang_json" or "trtllm"); Error(path, "format", ...) for another.
std::unique_ptr<CountsSource> open_counts(const std::string& format, const std::string& path, int experts, int top_k);
std::unique_ptr<TokensSource> open_tokens_csv(const std::string& path, int num_experts, int top_k);
std::unique_ptr<TokensSource> open_tokens_npy(const std::string& path, int num_experts, int top_k);

// The registered workloads (workload/trace_workloads.cpp).
std::unique_ptr<Workload> make_counts_workload(const WorkloadInput& in);
std::unique_ptr<Workload> make_tokens_workload(const WorkloadInput& in);

}  // namespace moesim::trace
