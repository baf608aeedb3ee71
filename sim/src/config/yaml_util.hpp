// config/yaml_util.hpp: strict readers from yaml-cpp nodes to plain values (private to config/).
// Every reader throws moesim::Error(file, key path, the offending text, what was expected).
#pragma once

#include "moesim/error.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::config {

using KeyList = std::span<const std::string_view>;

// "a, b, c"
std::string join(KeyList keys);
std::string join(const std::vector<std::string>& items);

// "prefix.key" (or "key" when prefix is empty) and "prefix[i]".
std::string child_key(const std::string& prefix, const std::string& key);
std::string index_key(const std::string& prefix, size_t i);

// How a node reads in an error message: the scalar text, "null", or the node in YAML flow style.
std::string node_text(const YAML::Node& n);

// Parses YAML text; a syntax error becomes Error(file, "line L, column C", "", "YAML syntax error: ...").
YAML::Node parse_yaml(const std::string& text, const std::string& file);
// Reads a whole file; throws Error(path, "", "", "no such file") and the like.
std::string read_text_file(const std::string& path);
// `rel` relative to the directory of `file` (the scenario file), unless it is absolute.
std::string path_relative_to(const std::string& file, const std::string& rel);

// Throws unless n is a mapping: Error(file, key, text, "expected a mapping").
void require_map(const YAML::Node& n, const std::string& file, const std::string& key);
// Throws Error(file, key.<k>, "", "unknown key; valid keys: ...") for the first key not in valid.
void check_keys(const YAML::Node& map, KeyList valid, const std::string& file, const std::string& key);

enum class IntKind { positive, non_negative };
enum class NumKind { any, positive, non_negative, unit_interval };

int read_int(const YAML::Node& n, IntKind kind, const std::string& file, const std::string& key);
int64_t read_int64(const YAML::Node& n, IntKind kind, const std::string& file, const std::string& key);
uint64_t read_u64(const YAML::Node& n, const std::string& file, const std::string& key);
double read_number(const YAML::Node& n, NumKind kind, const std::string& file, const std::string& key);
bool read_bool(const YAML::Node& n, const std::string& file, const std::string& key);
std::string read_string(const YAML::Node& n, const std::string& file, const std::string& key);
// One of `choices`; returns its index.
size_t read_choice(const YAML::Node& n, KeyList choices, const std::string& file, const std::string& key);
// A list of integers in [0, limit): "expected <what> in [0, limit)" for an element out of range.
std::vector<int> read_id_list(const YAML::Node& n, int limit, const std::string& what, const std::string& file,
                              const std::string& key);

// A key's value together with the key path it was written at (for error messages).
struct Field {
  YAML::Node node;
  std::string key;
};
// Keys of one section (router, placement, ...) merged from the defaults and a setup's overrides.
using FieldMap = std::map<std::string, Field>;
// The key path a section key was written at, or where it would have been.
std::string key_of(const FieldMap& f, const std::string& k, const std::string& section_key);

// Adds every key of `section` (a mapping at path `key`, or null/absent) to `fields`, replacing any
// earlier entry of the same key. Unknown keys throw.
void collect_fields(FieldMap& fields, const YAML::Node& section, KeyList valid, const std::string& file,
                    const std::string& key);

}  // namespace moesim::config
