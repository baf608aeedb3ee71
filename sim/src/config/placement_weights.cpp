// Per-layer EPLB weights: W.json files and sums over a counts trace (placement_weights.hpp).
#include "config/placement_weights.hpp"

#include "config/yaml_util.hpp"
#include "moesim/error.hpp"
#include "workload/trace_file.hpp"

#include <nlohmann/json.hpp>

#include <cfloat>
#include <cmath>
#include <filesystem>

namespace moesim::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Text of a JSON value for an error message, cut short when long.
std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

json parse_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    const auto at = msg.find("] ");
    throw Error(path, "byte " + std::to_string(e.byte), "", "not valid JSON: " + msg.substr(at == std::string::npos ? 0 : at + 2));
  } catch (const json::exception& e) {
    std::string msg = e.what();
    const auto at = msg.find("] ");
    throw Error(path, "", "", "not valid JSON: " + msg.substr(at == std::string::npos ? 0 : at + 2));
  }
}

// The row of `rows` that MoE layer 0 uses, by the rule of the header; Error(path, field, ...) otherwise.
size_t first_row(size_t rows, const ModelSpec& m, const std::string& path, const std::string& field,
                 const std::string& what) {
  const auto moe = static_cast<size_t>(m.moe_layers());
  if (const int64_t first = trace::first_moe_row(static_cast<int64_t>(rows), m.num_layers, m.first_dense_layers); first >= 0)
    return static_cast<size_t>(first);
  const std::string blocks = m.first_dense_layers > 0 ? " or one per block (" + std::to_string(m.num_layers) + ")" : "";
  throw Error(path, field, std::to_string(rows) + " rows",
              "the model has " + std::to_string(moe) + " MoE layers: " + what + " needs one layer (row) per MoE layer" + blocks);
}

// rows [trace or file layers][experts] -> [MoE layers][experts], each value a finite load >= 0 that fits
// EPLB's float32 arithmetic (FLT_MAX, about 3.4e38).
std::vector<std::vector<double>> per_moe_layer(const std::vector<std::vector<double>>& rows, const ModelSpec& m,
                                               const std::string& path, const std::string& field) {
  const size_t first = first_row(rows.size(), m, path, field, "weights_file");
  std::vector<std::vector<double>> out(rows.begin() + static_cast<std::ptrdiff_t>(first), rows.end());
  for (size_t l = 0; l < out.size(); ++l) {
    const std::string row_key = field + "[" + std::to_string(first + l) + "]";
    if (out[l].size() != static_cast<size_t>(m.num_experts))
      throw Error(path, row_key, std::to_string(out[l].size()) + " entries",
                  "expected " + std::to_string(m.num_experts) + " entries, one load per routed expert");
    for (size_t e = 0; e < out[l].size(); ++e)
      if (!std::isfinite(out[l][e]) || out[l][e] < 0 || out[l][e] > FLT_MAX)
        throw Error(path, row_key + "[" + std::to_string(e) + "]", value_text(out[l][e]),
                    "expected a finite, non-negative load (at most 3.4e38)");
  }
  return out;
}

// [MoE layers][experts]: every expert's hits, summed over steps [first, end) of the counts trace at path
// (values already checked by the trace reader: whole counts, one per routed expert).
std::vector<std::vector<double>> trace_loads(const std::string& path, const ModelSpec& m, const std::vector<int>& steps,
                                             const std::string& steps_key, const std::string& file) {
  const fs::path p(path);  // a TensorRT-LLM dump (its directory or meta_info.json), else SGLang's JSON
  const bool trtllm = fs::is_directory(p) || p.filename() == "meta_info.json";
  const std::unique_ptr<trace::CountsSource> src =
      trtllm ? trace::open_trtllm(path, m.num_experts, m.top_k) : trace::open_sglang_json(path, m.num_experts, m.top_k);
  const size_t first_layer = first_row(static_cast<size_t>(src->layers), m, path, src->layers_field, "weights_from_trace");
  const int64_t first = steps.empty() ? 0 : steps[0], end = steps.empty() ? src->steps : steps[1];
  if (end > src->steps)
    throw Error(file, steps_key, "[" + std::to_string(first) + ", " + std::to_string(end) + "]",
                "beyond the trace " + path + ": it holds " + std::to_string(src->steps) + " steps");
  std::vector<std::vector<double>> rows(static_cast<size_t>(m.moe_layers()), std::vector<double>(static_cast<size_t>(m.num_experts), 0.0));
  std::vector<int64_t> counts;  // [experts]
  for (int64_t s = first; s < end; ++s)
    for (size_t l = 0; l < rows.size(); ++l) {
      src->read(s, static_cast<int64_t>(first_layer + l), counts);
      for (size_t e = 0; e < counts.size(); ++e) rows[l][e] += static_cast<double>(counts[e]);
    }
  return rows;
}

}  // namespace

std::vector<std::vector<double>> read_weight_matrix(const std::string& path) {
  const json doc = parse_json_file(path);
  if (!doc.is_object())
    throw Error(path, "weight", shown(doc), "expected an object {\"weight\": [[...], ...]}, layers x logical experts");
  const auto it = doc.find("weight");
  if (it == doc.end()) throw Error(path, "weight", "", "missing: expected a list of layers, each a list of expert loads");
  if (!it->is_array() || it->empty())
    throw Error(path, "weight", shown(*it), "expected a non-empty list of layers, each a list of expert loads");
  std::vector<std::vector<double>> w;
  for (size_t l = 0; l < it->size(); ++l) {
    const json& row = (*it)[l];
    const std::string key = "weight[" + std::to_string(l) + "]";
    if (!row.is_array()) throw Error(path, key, shown(row), "expected a list of expert loads");
    std::vector<double> loads;
    for (size_t e = 0; e < row.size(); ++e) {
      if (!row[e].is_number())
        throw Error(path, key + "[" + std::to_string(e) + "]", shown(row[e]), "expected a non-negative number");
      loads.push_back(row[e].get<double>());
    }
    w.push_back(std::move(loads));
  }
  return w;
}

void read_placement_weights(const FieldMap& f, const std::string& key, const ModelSpec& model,
                            const std::string& file, PlacementSpec& p) {
  const std::string file_key = key_of(f, "weights_file", key), trace_key = key_of(f, "weights_from_trace", key);
  const std::string steps_key = key_of(f, "weights_steps", key);
  if (auto it = f.find("weights_file"); it != f.end()) p.weights_file = read_string(it->second.node, file, file_key);
  if (auto it = f.find("weights_from_trace"); it != f.end()) p.weights_from_trace = read_string(it->second.node, file, trace_key);
  if (auto it = f.find("weights_steps"); it != f.end()) {
    const YAML::Node& n = it->second.node;
    if (!n.IsSequence() || n.size() != 2)
      throw Error(file, steps_key, node_text(n), "expected [first, end]: the trace steps first .. end - 1");
    p.weights_steps = {read_int(n[0], IntKind::non_negative, file, index_key(steps_key, 0)),
                       read_int(n[1], IntKind::positive, file, index_key(steps_key, 1))};
    if (p.weights_steps[1] <= p.weights_steps[0])
      throw Error(file, steps_key, node_text(n), "expected first < end");
    if (p.weights_from_trace.empty()) throw Error(file, steps_key, node_text(n), "only weights_from_trace has steps");
  }
  const bool from_file = !p.weights_file.empty(), from_trace = !p.weights_from_trace.empty();
  if (!from_file && !from_trace) return;
  const std::string& used_key = from_file ? file_key : trace_key;
  const std::string given = from_file ? p.weights_file : p.weights_from_trace;
  if (from_file && from_trace)
    throw Error(file, trace_key, p.weights_from_trace, "give weights_file or weights_from_trace, not both");
  if (p.name != "eplb") throw Error(file, used_key, given, "only the eplb placement reads weights (placement is '" + p.name + "')");
  if (!p.weight.empty()) throw Error(file, used_key, given, "give `weight` (one row for every layer) or a weights file, not both");
  const std::string path = fs::path(path_relative_to(file, given)).lexically_normal().string();
  if (!fs::exists(path)) throw Error(file, used_key, given, "no such file or directory (" + path + ")");
  if (from_file) {
    p.weights_file = path;
    p.layer_weight = per_moe_layer(read_weight_matrix(path), model, path, "weight");
  } else {
    p.weights_from_trace = path;
    p.layer_weight = trace_loads(path, model, p.weights_steps, steps_key, file);
  }
}

}  // namespace moesim::config
