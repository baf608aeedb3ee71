// The trace keys of a workload section: path resolved against the scenario, format inferred and checked.
#include "config/trace_config.hpp"

#include "config/yaml_util.hpp"
#include "moesim/error.hpp"

#include <filesystem>

namespace moesim::config {
namespace {

namespace fs = std::filesystem;

std::string infer_format(const std::string& path) {
  const fs::path p(path);
  if (fs::is_directory(p) || p.filename() == "meta_info.json") return "trtllm";
  if (p.extension() == ".json") return "sglang_json";
  if (p.extension() == ".csv") return "csv";
  if (p.extension() == ".npy") return "npy";
  return "";
}

}  // namespace

void check_trace_workload(WorkloadSpec& w, const std::string& path_key, const std::string& format_key,
                          const std::string& file) {
  const bool counts = w.name == "trace_counts", tokens = w.name == "trace_tokens";
  if (!counts && !tokens) {
    if (!w.path.empty())
      throw Error(file, path_key, w.path, "only the trace workloads (trace_counts, trace_tokens) read a file");
    if (!w.format.empty())
      throw Error(file, format_key, w.format, "only the trace workloads (trace_counts, trace_tokens) have a format");
    return;
  }
  if (w.path.empty()) throw Error(file, path_key, "", "missing required key: the trace that " + w.name + " replays");
  const std::string given = w.path;
  w.path = fs::path(path_relative_to(file, given)).lexically_normal().string();
  if (!fs::exists(w.path)) throw Error(file, path_key, given, "no such file or directory (" + w.path + ")");
  if (w.format.empty()) w.format = infer_format(w.path);
  if (w.format.empty())
    throw Error(file, path_key, given, "cannot tell the trace format from the name; set format (sglang_json, trtllm, csv, npy)");
  const bool counts_format = w.format == "sglang_json" || w.format == "trtllm";
  if (counts && !counts_format)
    throw Error(file, format_key, w.format, "trace_counts replays expert counts: format sglang_json or trtllm");
  if (tokens && counts_format)
    throw Error(file, format_key, w.format, "trace_tokens replays per-token expert ids: format csv or npy");
}

void check_trace_setup(const WorkloadSpec& w, const FieldMap& router, const FieldMap& workload,
                       const std::string& file) {
  if (w.name != "trace_counts" && w.name != "trace_tokens") return;
  for (const char* k : {"bias_update_speed", "voted_experts"})
    if (auto it = router.find(k); it != router.end())
      throw Error(file, it->second.key, node_text(it->second.node),
                  "has no effect with workload " + w.name +
                      ": a trace replays recorded routing decisions and bypasses the router; remove the key");
  for (const auto& [k, fld] : workload)
    if (k != "name" && k != "path" && k != "format")
      throw Error(file, fld.key, node_text(fld.node),
                  "only the synthetic workload reads it: " + w.name + " replays the trace as recorded; remove the key");
}

}  // namespace moesim::config
