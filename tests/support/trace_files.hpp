// Writers of small trace files for the trace-replay tests: a temporary directory, safetensors and .npy
// laid out byte by byte (so the tests check the readers against the formats, not against themselves).
#pragma once

#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/simulator.hpp"
#include "moesim/workload.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace moesim::test_traces {

namespace fs = std::filesystem;

struct TempDir {
  fs::path dir;
  TempDir() {
    static int n = 0;
    dir = fs::temp_directory_path() / ("moesim_trace_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const fs::path p = dir / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

template <class T>
std::string le_bytes(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

// A safetensors file: 8-byte little-endian header length, JSON header, data. Each tensor: (name, dtype,
// raw bytes, element count); offsets are laid out back to back.
struct Tensor {
  std::string name, dtype, data;
  int64_t n;
};
inline std::string safetensors(const std::vector<Tensor>& ts) {
  nlohmann::ordered_json h;
  std::string data;
  for (const Tensor& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", {t.n}}, {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data += t.data;
  }
  const std::string hs = h.dump();
  return le_bytes<uint64_t>(hs.size()) + hs + data;
}
template <class T>
std::string raw(std::initializer_list<T> v) {
  std::string s;
  for (T x : v) s += le_bytes<T>(x);
  return s;
}

// A .npy file, format 1.0: magic, version, header length (u16), header dict padded to 64 bytes, data.
inline std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + le_bytes<uint16_t>(static_cast<uint16_t>(h.size())) + h + data;
}

// A trace workload's input: `layers` MoE layers (no dense ones), top-2, 2 tokens per step, scenario "scen.yaml".
inline WorkloadInput input(const std::string& name, const std::string& path, const std::string& format, int experts,
                    int layers, int steps) {
  WorkloadInput in;
  in.spec.name = name, in.spec.path = path, in.spec.format = format;
  in.num_experts = experts, in.num_layers = layers, in.model_layers = layers;
  in.top_k = 2, in.steps = steps, in.tokens_per_step = 2;
  in.file = "scen.yaml";
  return in;
}

inline std::unique_ptr<Workload> make(const WorkloadInput& in) {
  return builtin_registries().workloads.get(in.spec.name).factory(in);
}

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Runs a scenario file through config and simulator.
inline ScenarioResult run_scenario(const std::string& path) {
  return simulate(load_scenario(path, {}, builtin_registries()), builtin_registries());
}

}  // namespace moesim::test_traces
