// config/hf_reader.hpp: typed reads of the keys of one HuggingFace config.json object, for the family
// mappings of hf_config.cpp (private to config/). Every error names the file and the HF key.
#pragma once

#include "moesim/error.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace moesim::config::hf {

using Json = nlohmann::json;

inline std::string value_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Typed reads from one config.json object; every error names the file and the HF key.
class HfReader {
 public:
  HfReader(const Json& root, std::string path, std::string family)
      : root_(root), path_(std::move(path)), family_(std::move(family)) {}
  const std::string& path() const { return path_; }
  const std::string& family() const { return family_; }
  bool has(const std::string& key) const {
    const auto it = root_.find(key);
    return it != root_.end() && !it->is_null();
  }
  int positive(const std::string& key) const { return require(key), to_int(key, 1); }
  int positive_or(const std::string& key, int fallback) const { return has(key) ? to_int(key, 1) : fallback; }
  int count_or(const std::string& key, int fallback) const { return has(key) ? to_int(key, 0) : fallback; }
  // Required, but null means 0 (DeepSeek q_lora_rank: null = no query compression).
  int positive_or_null(const std::string& key) const { return require(key), positive_or(key, 0); }
  bool flag_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const Json& v = root_.at(key);
    if (!v.is_boolean()) fail(key, value_text(v), "expected true or false");
    return v.get<bool>();
  }
  double factor_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const Json& v = root_.at(key);
    if (!v.is_number() || v.get<double>() <= 0) fail(key, value_text(v), "expected a positive number");
    return v.get<double>();
  }
  std::string text_or(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const Json& v = root_.at(key);
    if (!v.is_string()) fail(key, value_text(v), "expected a string");
    return v.get<std::string>();
  }
  // A list of block indices in [0, layers); absent or null: empty.
  std::vector<int> layer_list(const std::string& key, int layers) const {
    if (!has(key)) return {};
    const Json& v = root_.at(key);
    if (!v.is_array()) fail(key, value_text(v), "expected a list of layer indices");
    std::vector<int> out;
    for (const Json& e : v) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= layers)
        fail(key, value_text(v), "expected layer indices in [0, num_hidden_layers " + std::to_string(layers) + ")");
      out.push_back(static_cast<int>(e.get<int64_t>()));
    }
    return out;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& value, const std::string& problem) const {
    throw Error(path_, key, value, problem);
  }

 private:
  void require(const std::string& key) const {
    if (!root_.contains(key)) fail(key, "", "missing required key for " + family_);
  }
  int to_int(const std::string& key, int min) const {
    const Json& v = root_.at(key);
    const std::string expected = min > 0 ? "expected a positive integer" : "expected a non-negative integer";
    const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(INT_MAX)
                                             : v.is_number_integer() && v.get<int64_t>() >= 0;
    if (!fits || v.get<int64_t>() < min) fail(key, value_text(v), expected);
    return static_cast<int>(v.get<int64_t>());
  }

  const Json& root_;
  std::string path_, family_;
};

}  // namespace moesim::config::hf
