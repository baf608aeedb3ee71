// workload/trace_trtllm.cpp: TensorRT-LLM's expert statistics (examples/ep_load_balancer; written by
// tensorrt_llm/_torch/expert_statistic.py when EXPERT_STATISTIC_ITER_RANGE is set): a directory with
//   meta_info.json       {"num_experts": E, "num_experts_per_token": k}
//   rank<r>.safetensors  one tensor per (iteration, layer) named "{iter}_{layer}": [E] tokens that rank
//                        routed to each expert (torch.bincount, so I64; I32 and F32 are read too)
// The counts of one (iter, layer) are the sum over the rank files (as ep_load_balancer/utils.py does).
// Iterations must be consecutive; layers are the model's block indices (e.g. 3..60 for DeepSeek-V3) and
// become trace layers 0, 1, ... in increasing order. safetensors: an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw little-endian data
// (offsets relative to its start). Only the headers are kept; read() fetches one tensor per rank file.
#include "workload/trace_file.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>

namespace moesim::trace {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

enum class DType { i32, i64, f32 };

struct TensorRef {
  size_t file = 0;     // index into the rank files
  int64_t offset = 0;  // absolute byte offset of the data
  DType dtype = DType::i64;
};

struct Entry {  // one tensor of one rank file
  int64_t iter = 0, layer = 0;
  TensorRef ref;
};

// Decodes n values of `dtype` from raw bytes, checking each is a count. out: [n].
void decode_counts(const std::string& raw, DType dtype, int64_t n, const std::string& file, const std::string& key,
                   std::vector<int64_t>& out) {
  out.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double v = 0;
    if (dtype == DType::i32) {
      int32_t x;
      std::memcpy(&x, raw.data() + 4 * i, 4);
      v = x;
    } else if (dtype == DType::i64) {
      int64_t x;
      std::memcpy(&x, raw.data() + 8 * i, 8);
      if (x < 0) throw Error(file, key + "[" + std::to_string(i) + "]", std::to_string(x), "expert count is negative");
      out[static_cast<size_t>(i)] = x;
      continue;
    } else {
      float x;
      std::memcpy(&x, raw.data() + 4 * i, 4);
      v = x;
    }
    out[static_cast<size_t>(i)] = check_count(v, std::to_string(v), file, key + "[" + std::to_string(i) + "]");
  }
}

json read_json_file(const std::string& path) {
  const TraceFile f(path);
  std::string text;
  f.read_at(0, f.size(), text);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path, "", "", std::string("not JSON: ") + e.what());
  }
}

int read_positive(const json& meta, const char* key, bool required, const std::string& path) {
  if (!meta.contains(key)) {
    if (required) throw Error(path, key, "", "missing required key");
    return 0;
  }
  const json& v = meta[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1 << 30)
    throw Error(path, key, v.dump(), "expected a positive integer");
  return v.get<int>();
}

DType parse_dtype(const json& t, const std::string& file, const std::string& key) {
  const std::string d = t.contains("dtype") && t["dtype"].is_string() ? t["dtype"].get<std::string>() : "";
  if (d == "I32") return DType::i32;
  if (d == "I64") return DType::i64;
  if (d == "F32") return DType::f32;
  throw Error(file, key + ".dtype", d, "unsupported dtype; expected I32, I64 or F32");
}

// The tensors of one rank file, each checked against the file size and [experts].
std::vector<Entry> read_header(const TraceFile& f, size_t index, int64_t experts) {
  const std::string& file = f.path();
  if (f.size() < 8)
    throw Error(file, "header length", "", "the file has " + std::to_string(f.size()) +
                                               " bytes, fewer than the 8-byte header length: truncated safetensors");
  std::string raw;
  f.read_at(0, 8, raw);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  if (n > static_cast<uint64_t>(f.size() - 8))
    throw Error(file, "header length", std::to_string(n),
                "exceeds the file's " + std::to_string(f.size()) + " bytes: truncated safetensors");
  f.read_at(8, static_cast<int64_t>(n), raw);
  json header;
  try {
    header = json::parse(raw);
  } catch (const json::exception& e) {
    throw Error(file, "header", "", std::string("not JSON: ") + e.what());
  }
  if (!header.is_object()) throw Error(file, "header", header.dump(), "expected a JSON object of tensors");
  const int64_t data_start = 8 + static_cast<int64_t>(n), data_bytes = f.size() - data_start;
  static const std::regex name_re("([0-9]+)_([0-9]+)");
  std::vector<Entry> out;
  for (const auto& [key, t] : header.items()) {
    if (key == "__metadata__") continue;
    std::smatch m;
    if (!std::regex_match(key, m, name_re)) throw Error(file, key, key, "expected a tensor named \"{iter}_{layer}\"");
    Entry e{std::stoll(m[1]), std::stoll(m[2]), {index, 0, parse_dtype(t, file, key)}};
    const json shape = t.value("shape", json());
    if (shape != json::array({experts}))
      throw Error(file, key + ".shape", shape.dump(),
                  "expected [" + std::to_string(experts) + "]: one count per expert (meta_info.json num_experts)");
    const json off = t.value("data_offsets", json());
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(file, key + ".data_offsets", off.dump(), "expected [begin, end]");
    const auto b = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t want = static_cast<uint64_t>(experts) * (e.ref.dtype == DType::i64 ? 8 : 4);
    if (end < b || end > static_cast<uint64_t>(data_bytes))
      throw Error(file, key + ".data_offsets", off.dump(),
                  "beyond the file's " + std::to_string(data_bytes) + " data bytes: truncated safetensors");
    if (end - b != want)
      throw Error(file, key + ".data_offsets", off.dump(), "spans " + std::to_string(end - b) + " bytes; dtype and shape need " +
                                                               std::to_string(want));
    e.ref.offset = data_start + static_cast<int64_t>(b);
    out.push_back(e);
  }
  return out;
}

// rank<r>.safetensors of `dir`, by rank.
std::vector<std::string> rank_files(const fs::path& dir) {
  static const std::regex re("rank([0-9]+)\\.safetensors");
  std::map<int64_t, std::string> by_rank;
  for (const auto& de : fs::directory_iterator(dir)) {
    const std::string name = de.path().filename().string();
    std::smatch m;
    if (std::regex_match(name, m, re)) by_rank[std::stoll(m[1])] = de.path().string();
  }
  std::vector<std::string> out;
  for (auto& [_, p] : by_rank) out.push_back(p);
  if (out.empty()) throw Error(dir.string(), "rank*.safetensors", "", "no rank files next to meta_info.json");
  return out;
}

class TrtllmCounts final : public CountsSource {
 public:
  TrtllmCounts(const std::string& path, int num_experts, int top_k) {
    const fs::path p(path);
    const fs::path dir = fs::is_directory(p) ? p : p.parent_path();
    const std::string meta_path = (dir / "meta_info.json").string();
    const json meta = read_json_file(meta_path);
    experts = read_positive(meta, "num_experts", true, meta_path);
    if (experts != num_experts)
      throw Error(meta_path, "num_experts", std::to_string(experts),
                  "the model has " + std::to_string(num_experts) + " routed experts");
    const int k = read_positive(meta, "num_experts_per_token", false, meta_path);
    if (k != 0 && k != top_k)
      throw Error(meta_path, "num_experts_per_token", std::to_string(k), "differs from the model's top_k (" + std::to_string(top_k) + ")");
    std::vector<Entry> all;
    for (const std::string& rp : rank_files(dir)) {
      files_.push_back(std::make_unique<TraceFile>(rp));
      const auto entries = read_header(*files_.back(), files_.size() - 1, experts);
      all.insert(all.end(), entries.begin(), entries.end());
    }
    layers_field = "layer ids of the \"{iter}_{layer}\" tensors";
    build_grid(all, dir.string(), top_k);
  }

  void read(int64_t step, int64_t layer, std::vector<int64_t>& out) const override {
    out.assign(static_cast<size_t>(experts), 0);
    std::vector<int64_t> part;
    const size_t c = static_cast<size_t>(step * layers + layer);
    for (uint32_t i = cell_begin_[c]; i < cell_begin_[c + 1]; ++i) {
      part = read_tensor(refs_[i], cell_name(step, layer));
      for (int64_t e = 0; e < experts; ++e) out[static_cast<size_t>(e)] += part[static_cast<size_t>(e)];
    }
  }

 private:
  std::vector<int64_t> read_tensor(const TensorRef& r, const std::string& key) const {
    const TraceFile& f = *files_[r.file];
    std::string raw;
    f.read_at(r.offset, experts * (r.dtype == DType::i64 ? 8 : 4), raw);
    std::vector<int64_t> v;
    decode_counts(raw, r.dtype, experts, f.path(), key, v);
    return v;
  }
  std::string cell_name(int64_t step, int64_t layer) const {
    return std::to_string(first_iter_ + step) + "_" + std::to_string(layer_ids_[static_cast<size_t>(layer)]);
  }

  // Cells [iterations x layers] in order, each listing its tensors (one per rank file that has it);
  // every tensor is read once here so that bad counts fail at open.
  void build_grid(const std::vector<Entry>& all, const std::string& dir, int top_k) {
    std::map<std::pair<int64_t, int64_t>, std::vector<TensorRef>> cells;
    std::map<int64_t, int> layer_index;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const Entry& e : all) {
      cells[{e.iter, e.layer}].push_back(e.ref);
      layer_index[e.layer] = 0;
      lo = std::min(lo, e.iter), hi = std::max(hi, e.iter);
    }
    if (cells.empty()) throw Error(dir, "rank*.safetensors", "", "no \"{iter}_{layer}\" tensors in the rank files");
    for (auto& [id, idx] : layer_index) idx = static_cast<int>(layer_ids_.size()), layer_ids_.push_back(id);
    first_iter_ = lo;
    steps = hi - lo + 1;
    layers = static_cast<int64_t>(layer_ids_.size());
    cell_begin_.push_back(0);
    for (int64_t s = 0; s < steps; ++s)
      for (int64_t l = 0; l < layers; ++l) {
        auto it = cells.find({lo + s, layer_ids_[static_cast<size_t>(l)]});
        if (it == cells.end())
          throw Error(dir, "\"" + cell_name(s, l) + "\"", "", "missing tensor: iterations must be consecutive and hold every layer");
        int64_t hits = 0;  // summed over the rank files; each count <= 2^63 - 1, so bound every partial sum
        for (const TensorRef& r : it->second) {
          for (int64_t c : read_tensor(r, cell_name(s, l))) {
            hits = c > INT64_MAX - hits ? INT64_MAX : hits + c;
            check_cell_hits(hits, top_k, dir, "\"" + cell_name(s, l) + "\"");
          }
          refs_.push_back(r);
        }
        cell_begin_.push_back(static_cast<uint32_t>(refs_.size()));
      }
  }

  std::vector<std::unique_ptr<TraceFile>> files_;  // rank files, by rank
  std::vector<TensorRef> refs_;                    // tensors of every cell, cell after cell
  std::vector<uint32_t> cell_begin_;               // [steps * layers + 1] cell c: refs_[cell_begin_[c], cell_begin_[c+1])
  std::vector<int64_t> layer_ids_;                 // [layers] the model's block index of each trace layer
  int64_t first_iter_ = 0;
};

}  // namespace

std::unique_ptr<CountsSource> open_trtllm(const std::string& path, int num_experts, int top_k) {
  return std::make_unique<TrtllmCounts>(path, num_experts, top_k);
}

}  // namespace moesim::trace
