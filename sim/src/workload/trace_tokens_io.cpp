// workload/trace_tokens_io.cpp: per-token top-k expert ids [layers, tokens, k] (SGLang's per_token mode
// records topk_ids_of_layer in this shape), from CSV or .npy. Both are validated in one streaming pass
// at open; read() then fetches the rows of one step:
//   CSV  rows "layer,token,e0,e1,...", layer by layer from 0 and tokens 0, 1, 2, ... within each layer
//        (an optional header line first, blank lines ignored). Indexed by the byte offset of every
//        kRowBlock-th row of each layer.
//   .npy int32 or int64 ('<i4', '<i8'), C order, shape (layers, tokens, k), format versions 1 to 3:
//        row (l, t) sits at a computed offset, no index needed.
// An id is an expert in [0, experts) or -1 (an empty slot, as SGLang pads); a token names an expert once.
// k must be the model's top_k (checked before any row is read, so check_row's O(k^2) stays small).
#include "workload/trace_file.hpp"

#include <cerrno>
#include <cstring>

namespace moesim::trace {
namespace {

constexpr int64_t kRowBlock = 256;     // CSV: rows between two indexed offsets
constexpr int64_t kScanRows = 65536;   // .npy: rows per read in the validating pass

// Checks one token's ids; where() names the row for the error ("line 12", "[1, 40]").
template <class Where>
void check_row(const int64_t* ids, int k, int experts, const std::string& file, const Where& where) {
  for (int j = 0; j < k; ++j) {
    if (ids[j] == kNoExpert) continue;
    if (ids[j] < 0 || ids[j] >= experts)
      throw Error(file, where() + ", e" + std::to_string(j), std::to_string(ids[j]),
                  "expected an expert id in [0, " + std::to_string(experts) + ") or -1 (no expert)");
    for (int i = 0; i < j; ++i)
      if (ids[i] == ids[j])
        throw Error(file, where() + ", e" + std::to_string(j), std::to_string(ids[j]), "expert repeated in one token's row");
  }
}

// Splits a CSV row into integers; false when a field is not one.
bool parse_ints(const std::string& line, std::vector<int64_t>& out, std::string& bad) {
  out.clear();
  size_t i = 0;
  while (i <= line.size()) {
    const size_t j = std::min(line.find(',', i), line.size());
    std::string f = line.substr(i, j - i);
    f.erase(0, f.find_first_not_of(" \t"));
    f.erase(f.find_last_not_of(" \t") + 1);
    char* end = nullptr;
    const long long v = std::strtoll(f.c_str(), &end, 10);
    if (f.empty() || end != f.c_str() + f.size()) return bad = f, false;
    out.push_back(v);
    i = j + 1;
  }
  return true;
}

bool blank(const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; }

class CsvTokens final : public TokensSource {
 public:
  CsvTokens(const std::string& path, int num_experts, int top_k) : file_(path), experts_(num_experts), top_k_(top_k) {
    layers_field = "layer";
    scan();
  }

  void read(int64_t layer, int64_t first, int64_t n, std::vector<int32_t>& out) const override {
    const int64_t nb = (tokens + kRowBlock - 1) / kRowBlock, b0 = first / kRowBlock;
    const int64_t b1 = (first + n - 1) / kRowBlock + 1;
    const size_t base = static_cast<size_t>(layer * (nb + 1));
    ChunkReader in(file_, offsets_[base + b0], offsets_[base + b1]);
    out.resize(static_cast<size_t>(n * k));
    std::string line, bad;
    std::vector<int64_t> f;
    for (int64_t row = b0 * kRowBlock; row < first + n && in.line(line);) {
      if (blank(line)) continue;
      if (row >= first) {
        MOESIM_CHECK(parse_ints(line, f, bad) && static_cast<int>(f.size()) == k + 2, file_.path() + " changed");
        for (int j = 0; j < k; ++j) out[static_cast<size_t>((row - first) * k + j)] = static_cast<int32_t>(f[j + 2]);
      }
      ++row;
    }
  }

 private:
  void scan() {
    ChunkReader in(file_);
    std::string line, bad;
    std::vector<int64_t> f;
    int64_t line_no = 0, layer = -1, next_token = 0;
    for (int64_t at = in.offset(); in.line(line); at = in.offset()) {
      ++line_no;
      const auto where = [&] { return "line " + std::to_string(line_no); };
      if (blank(line)) continue;
      if (!parse_ints(line, f, bad)) {
        if (line_no == 1) continue;  // a header line
        throw Error(file_.path(), where(), bad, "expected integers: layer,token,e0,e1,...");
      }
      if (f.size() < 3) throw Error(file_.path(), where(), line, "expected layer,token,e0,e1,... (at least one expert id)");
      if (k == 0) {
        if (f.size() - 2 != static_cast<size_t>(top_k_))
          throw Error(file_.path(), where(), std::to_string(f.size() - 2) + " expert ids",
                      "the model's top_k is " + std::to_string(top_k_) +
                          ": every row names top_k experts (-1 for an empty slot)");
        k = top_k_;
      }
      if (f.size() != static_cast<size_t>(k) + 2)
        throw Error(file_.path(), where(), std::to_string(f.size() - 2) + " expert ids",
                    "every row must have the same k as the first (" + std::to_string(k) + ")");
      if (f[0] == layer + 1 && f[1] == 0) {
        end_layer(layer, next_token, where(), at);
        ++layer, next_token = 0;
      }
      if (f[0] != layer || f[1] != next_token)
        throw Error(file_.path(), where(), std::to_string(f[0]) + "," + std::to_string(f[1]),
                    "rows must run layer by layer from 0, tokens 0, 1, 2, ... within each layer; expected layer " +
                        std::to_string(layer) + " token " + std::to_string(next_token));
      check_row(f.data() + 2, k, experts_, file_.path(), where);
      if (next_token % kRowBlock == 0) offsets_.push_back(at);
      ++next_token;
    }
    if (layer < 0) throw Error(file_.path(), "", "", "no rows: expected layer,token,e0,e1,...");
    end_layer(layer, next_token, "line " + std::to_string(line_no), in.offset());
    layers = layer + 1;
  }

  // Closes layer `layer` (if any) that ended with `count` tokens at byte `end`.
  void end_layer(int64_t layer, int64_t count, const std::string& where, int64_t end) {
    if (layer < 0) return;
    if (layer == 0) tokens = count;
    if (count != tokens)
      throw Error(file_.path(), where, std::to_string(count) + " tokens",
                  "layer " + std::to_string(layer) + " has a different number of tokens than layer 0 (" +
                      std::to_string(tokens) + ")");
    offsets_.push_back(end);
  }

  TraceFile file_;
  int experts_, top_k_;
  std::vector<int64_t> offsets_;  // per layer: byte offset of rows 0, B, 2B, ..., then the layer's end
};

struct NpyHeader {
  int item_bytes = 0;
  std::vector<int64_t> shape;
  std::string shape_text;  // as the header writes it, e.g. "(2, 4, 8)"
  int64_t data_start = 0;
};

// The value of 'key' in the header dict, up to the next ',' at depth 0 (a tuple counts as one).
std::string dict_value(const std::string& h, const std::string& key) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t i = h.find(':', k) + 1, depth = 0, j = i;
  for (; j < h.size() && !(depth == 0 && (h[j] == ',' || h[j] == '}')); ++j) depth += h[j] == '(' ? 1 : h[j] == ')' ? -1 : 0;
  std::string v = h.substr(i, j - i);
  v.erase(0, v.find_first_not_of(" "));
  v.erase(v.find_last_not_of(" ") + 1);
  return v;
}

NpyHeader read_npy_header(const TraceFile& f) {
  const std::string& file = f.path();
  std::string b;
  f.read_at(0, std::min<int64_t>(f.size(), 12), b);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw Error(file, "magic", "", "not a .npy file (expected \\x93NUMPY)");
  const int major = static_cast<unsigned char>(b[6]);
  const int64_t start = major == 1 ? 10 : 12;
  if (major < 1 || major > 3 || f.size() < start) throw Error(file, "version", std::to_string(major), "expected .npy format version 1, 2 or 3");
  uint32_t hlen = 0;
  std::memcpy(&hlen, b.data() + 8, major == 1 ? 2 : 4);
  if (start + hlen > f.size())
    throw Error(file, "header length", std::to_string(hlen), "exceeds the file's " + std::to_string(f.size()) + " bytes: truncated .npy");
  std::string h;
  f.read_at(start, hlen, h);
  NpyHeader out;
  out.data_start = start + hlen;
  const std::string descr = dict_value(h, "descr"), order = dict_value(h, "fortran_order"), shape = dict_value(h, "shape");
  if (descr == "'<i4'") out.item_bytes = 4;
  else if (descr == "'<i8'") out.item_bytes = 8;
  else throw Error(file, "descr", descr.size() >= 2 ? descr.substr(1, descr.size() - 2) : descr,
                   "expected int32 or int64 expert ids ('<i4' or '<i8')");
  if (order != "False") throw Error(file, "fortran_order", order, "expected C order (fortran_order False)");
  std::vector<int64_t> dims;
  for (size_t i = 1; i + 1 < shape.size();) {  // "(2, 3, 4)" or "(5,)"
    const size_t j = std::min(shape.find(',', i), shape.size() - 1);
    if (shape.find_first_not_of(" ", i) < j) {
      char* end = nullptr;
      errno = 0;
      dims.push_back(std::strtoll(shape.c_str() + i, &end, 10));
      const size_t stop = static_cast<size_t>(end - shape.c_str());
      if (errno == ERANGE || stop == i || shape.find_first_not_of(" ", stop) < j)
        throw Error(file, "shape", shape, "expected a tuple of whole numbers (layers, tokens, k)");
    }
    i = j + 1;
  }
  if (dims.size() != 3) throw Error(file, "shape", shape, "expected 3 dimensions [layers, tokens, k]");
  if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1) throw Error(file, "shape", shape, "empty trace: no dimension may be 0");
  out.shape = dims;
  out.shape_text = shape;
  return out;
}

class NpyTokens final : public TokensSource {
 public:
  NpyTokens(const std::string& path, int num_experts, int top_k) : file_(path) {
    const NpyHeader h = read_npy_header(file_);
    layers_field = "shape";
    item_ = h.item_bytes, data_start_ = h.data_start;
    if (h.shape[2] != top_k)
      throw Error(path, "shape", h.shape_text, "k (the last dimension) is " + std::to_string(h.shape[2]) +
                                                   "; the model's top_k is " + std::to_string(top_k) +
                                                   ": a per-token trace names top_k experts per token");
    layers = h.shape[0], tokens = h.shape[1], k = top_k;
    int64_t rows = 0, need = 0;  // layers * tokens * k * item bytes, refused if it overflows
    if (__builtin_mul_overflow(layers, tokens, &rows) || __builtin_mul_overflow(rows, int64_t{k} * item_, &need))
      throw Error(path, "shape", h.shape_text,
                  "needs more than 2^63 bytes of data, more than any file holds: a corrupt header");
    if (file_.size() - data_start_ < need)
      throw Error(path, "data", std::to_string(file_.size() - data_start_) + " bytes",
                  "shape " + shape_text(h.shape) + " needs " + std::to_string(need) + " bytes: truncated .npy");
    validate(num_experts);
  }

  void read(int64_t layer, int64_t first, int64_t n, std::vector<int32_t>& out) const override {
    std::vector<int64_t> ids;
    decode((layer * tokens + first), n, ids);
    out.assign(ids.begin(), ids.end());
  }

 private:
  // ids: [n, k] of rows [row, row + n) of the flattened [layers * tokens] rows.
  void decode(int64_t row, int64_t n, std::vector<int64_t>& ids) const {
    std::string raw;
    file_.read_at(data_start_ + row * k * item_, n * k * item_, raw);
    ids.resize(static_cast<size_t>(n * k));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (item_ == 4) {
        int32_t v;
        std::memcpy(&v, raw.data() + 4 * i, 4);
        ids[i] = v;
      } else {
        std::memcpy(&ids[i], raw.data() + 8 * i, 8);
      }
    }
  }
  void validate(int experts) const {
    std::vector<int64_t> ids;
    const int64_t rows = layers * tokens;
    for (int64_t r0 = 0; r0 < rows; r0 += kScanRows) {
      const int64_t n = std::min(kScanRows, rows - r0);
      decode(r0, n, ids);
      for (int64_t r = 0; r < n; ++r)
        check_row(ids.data() + r * k, k, experts, file_.path(), [&] {
          return "[" + std::to_string((r0 + r) / tokens) + ", " + std::to_string((r0 + r) % tokens) + "]";
        });
    }
  }

  TraceFile file_;
  int64_t item_ = 4, data_start_ = 0;
};

}  // namespace

std::unique_ptr<TokensSource> open_tokens_csv(const std::string& path, int num_experts, int top_k) {
  return std::make_unique<CsvTokens>(path, num_experts, top_k);
}

std::unique_ptr<TokensSource> open_tokens_npy(const std::string& path, int num_experts, int top_k) {
  return std::make_unique<NpyTokens>(path, num_experts, top_k);
}

}  // namespace moesim::trace
