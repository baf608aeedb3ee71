#include "config/yaml_util.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace moesim::config {

std::string join(KeyList keys) {
  std::string s;
  for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& k : items) s += (s.empty() ? "" : ", ") + k;
  return s;
}

std::string child_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string index_key(const std::string& prefix, size_t i) { return prefix + "[" + std::to_string(i) + "]"; }

namespace {
// The emitter keeps each node's own (block) style: force flow style on a copy, all the way down.
void set_flow_style(YAML::Node n) {
  if (n.IsSequence() || n.IsMap()) n.SetStyle(YAML::EmitterStyle::Flow);
  if (n.IsSequence())
    for (auto e : n) set_flow_style(e);
  if (n.IsMap())
    for (auto kv : n) set_flow_style(kv.second);
}
}  // namespace

std::string node_text(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsScalar()) return n.Scalar();
  YAML::Node copy = YAML::Clone(n);
  set_flow_style(copy);
  YAML::Emitter out;
  out << copy;
  return out.c_str();
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null())
      where = "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    throw Error(file, where, "", "YAML syntax error: " + e.msg);
  }
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path, "", "", "no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path, "", "", "is a directory, expected a YAML file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "", "cannot open file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string path_relative_to(const std::string& file, const std::string& rel) {
  const std::filesystem::path p(rel);
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  return p.is_absolute() || dir.empty() ? rel : (dir / p).string();
}

void require_map(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (!n.IsMap()) throw Error(file, key, node_text(n), "expected a mapping");
}

void check_keys(const YAML::Node& map, KeyList valid, const std::string& file, const std::string& key) {
  std::vector<std::string> seen;
  for (const auto& kv : map) {
    const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : node_text(kv.first);
    bool known = false;
    for (auto v : valid) known = known || v == k;
    if (!known) throw Error(file, child_key(key, k), "", "unknown key; valid keys: " + join(valid));
    if (std::find(seen.begin(), seen.end(), k) != seen.end())
      throw Error(file, child_key(key, k), "", "duplicate key");
    seen.push_back(k);
  }
}

namespace {

// Parses the whole of `s` as a decimal integer.
bool parse_int64(const std::string& s, int64_t& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return b != e && ec == std::errc() && p == e;
}

bool parse_double(const std::string& s, double& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return b != e && ec == std::errc() && p == e && std::isfinite(out);
}

const char* int_expectation(IntKind kind) {
  return kind == IntKind::positive ? "expected a positive integer" : "expected a non-negative integer";
}

}  // namespace

int64_t read_int64(const YAML::Node& n, IntKind kind, const std::string& file, const std::string& key) {
  int64_t v = 0;
  if (!n.IsScalar() || !parse_int64(n.Scalar(), v) || v < (kind == IntKind::positive ? 1 : 0))
    throw Error(file, key, node_text(n), int_expectation(kind));
  return v;
}

int read_int(const YAML::Node& n, IntKind kind, const std::string& file, const std::string& key) {
  const int64_t v = read_int64(n, kind, file, key);
  if (v > std::numeric_limits<int>::max())
    throw Error(file, key, node_text(n), std::string(int_expectation(kind)) + " below 2^31");
  return static_cast<int>(v);
}

uint64_t read_u64(const YAML::Node& n, const std::string& file, const std::string& key) {
  uint64_t v = 0;
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (!n.IsScalar() || b == e || ec != std::errc() || p != e)
    throw Error(file, key, node_text(n), "expected an unsigned 64-bit integer");
  return v;
}

double read_number(const YAML::Node& n, NumKind kind, const std::string& file, const std::string& key) {
  double v = 0;
  const bool ok = n.IsScalar() && parse_double(n.Scalar(), v);
  switch (kind) {
    case NumKind::any:
      if (!ok) throw Error(file, key, node_text(n), "expected a number");
      break;
    case NumKind::positive:
      if (!ok || v <= 0) throw Error(file, key, node_text(n), "expected a positive number");
      break;
    case NumKind::non_negative:
      if (!ok || v < 0) throw Error(file, key, node_text(n), "expected a non-negative number");
      break;
    case NumKind::unit_interval:
      if (!ok || v < 0 || v > 1) throw Error(file, key, node_text(n), "expected a number in [0, 1]");
      break;
  }
  return v;
}

bool read_bool(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  throw Error(file, key, node_text(n), "expected true or false");
}

std::string read_string(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (!n.IsScalar()) throw Error(file, key, node_text(n), "expected a string");
  return n.Scalar();
}

size_t read_choice(const YAML::Node& n, KeyList choices, const std::string& file, const std::string& key) {
  if (n.IsScalar())
    for (size_t i = 0; i < choices.size(); ++i)
      if (n.Scalar() == choices[i]) return i;
  throw Error(file, key, node_text(n), "expected one of: " + join(choices));
}

std::vector<int> read_id_list(const YAML::Node& n, int limit, const std::string& what, const std::string& file,
                              const std::string& key) {
  if (!n.IsSequence()) throw Error(file, key, node_text(n), "expected a list of " + what + "s");
  std::vector<int> out;
  out.reserve(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string k = index_key(key, i);
    const YAML::Node e = n[i];
    int64_t v = -1;
    if (!e.IsScalar() || !parse_int64(e.Scalar(), v) || v < 0 || v >= limit)
      throw Error(file, k, node_text(e), "expected " + what + " in [0, " + std::to_string(limit) + ")");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

void collect_fields(FieldMap& fields, const YAML::Node& section, KeyList valid, const std::string& file,
                    const std::string& key) {
  if (!section.IsDefined() || section.IsNull()) return;
  require_map(section, file, key);
  check_keys(section, valid, file, key);
  for (const auto& kv : section) {
    const std::string k = kv.first.Scalar();
    // erase + emplace, never assign: assigning a YAML::Node would rebind the node it aliases.
    fields.erase(k);
    fields.emplace(k, Field{kv.second, child_key(key, k)});
  }
}

std::string key_of(const FieldMap& f, const std::string& k, const std::string& section_key) {
  auto it = f.find(k);
  return it != f.end() ? it->second.key : child_key(section_key, k);
}

}  // namespace moesim::config
