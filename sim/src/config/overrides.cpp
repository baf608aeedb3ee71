// --set overrides: path parsing, the schema check, and the edit of the YAML tree.
#include "config/overrides.hpp"

#include "config/schema.hpp"
#include "config/yaml_util.hpp"

#include <algorithm>

namespace moesim::config {
namespace {

constexpr const char* kLabel = "--set";

struct Segment {
  std::string key;  // for a mapping key
  bool is_index = false;
  size_t index = 0;  // for a list entry
};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "setups[1].router.k" or "setups.1.router.k" -> setups, [1], router, k.
std::vector<Segment> parse_path(const std::string& path, const std::string& ov) {
  std::vector<Segment> segs;
  auto bad = [&] { return Error(kLabel, path, ov, "malformed key path (expected key.key[index].key)"); };
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('.', pos);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(pos, end - pos);
    const size_t br = part.find('[');
    const std::string name = part.substr(0, br);
    if (name.empty() && br != 0) throw bad();
    if (all_digits(name)) segs.push_back({"", true, std::stoul(name)});
    else if (!name.empty()) segs.push_back({name, false, 0});
    for (size_t b = br; b != std::string::npos && b < part.size();) {
      const size_t close = part.find(']', b);
      if (part[b] != '[' || close == std::string::npos || !all_digits(part.substr(b + 1, close - b - 1))) throw bad();
      segs.push_back({"", true, std::stoul(part.substr(b + 1, close - b - 1))});
      b = close + 1;
    }
    pos = end + 1;
  }
  if (segs.empty() || segs.front().is_index) throw bad();
  return segs;
}

// The schema a path is checked against: every mapping or list a path may pass through, by its generic
// path ("[]" stands for any list index, "*" for any key). Built from schema.hpp's key lists, the same
// ones the loaders check, so an override reaches exactly the keys a scenario file may write. A path
// below a setups[] entry is checked as the top-level section of the same name (setups[1].router ->
// router). Anything not listed here is a single value.
enum class Kind { map, list };
struct Section {
  std::string_view path;
  Kind kind;
  KeyList keys;  // map: its valid keys
};

const std::vector<Section>& sections() {
  using namespace schema;
  static const std::vector<Section> s = {
      {"", Kind::map, kTop},
      {"model", Kind::map, kInlineModel},
      {"cluster", Kind::map, kCluster},
      {"cluster.hardware", Kind::map, kHardwareInline},
      {"cluster.hardware.nominal", Kind::map, kHardwareNominal},
      {"cluster.hardware.nominal.scale_up", Kind::map, kHardwareLink},
      {"cluster.hardware.nominal.scale_out", Kind::map, kHardwareLink},
      {"cluster.hardware.calibrated", Kind::map, kHardwareCalibrated},
      {"cluster.hardware.calibrated.*", Kind::map, kHardwareEntry},
      {"cluster.hardware.price", Kind::map, kHardwarePrice},
      {"run", Kind::map, kRun},
      {"router", Kind::map, kRouter},
      {"placement", Kind::map, kPlacement},
      {"placement.device_of_expert", Kind::list, {}},
      {"placement.phy2log", Kind::list, {}},
      {"placement.phy2dev", Kind::list, {}},
      {"placement.weight", Kind::list, {}},
      {"capacity", Kind::map, kCapacity},
      {"workload", Kind::map, kWorkload},
      {"setups", Kind::list, {}},
      {"setups[]", Kind::map, kSetup},
      {"deployment", Kind::map, kDeployment},
      {"deployment.attention", Kind::map, kDeploymentAttention},
      {"deployment.experts", Kind::map, kDeploymentExperts},
      {"deployment.shared_experts", Kind::map, kDeploymentShared},
      {"deployment.dtypes", Kind::map, kDeploymentDtypes},
      {"deployment.mtp", Kind::map, kDeploymentMtp},
      {"deployment.training", Kind::map, kDeploymentTraining},
      {"published", Kind::list, {}},
      {"published[]", Kind::map, kPublished},
      {"published[].known_miss", Kind::map, kPublishedMiss},
  };
  return s;
}

// The section at a generic path, or null for a single value.
const Section* section_at(const std::string& generic) {
  for (const Section& s : sections())
    if (s.path == generic) return &s;
  return nullptr;
}

// The generic path of key `key` below `parent` (a setup's sections are the top-level ones).
std::string generic_child(const std::string& parent, const std::string& key) {
  if (parent == "setups[]") return key;
  const std::string exact = child_key(parent, key);
  if (section_at(exact) || !section_at(child_key(parent, "*"))) return exact;
  return child_key(parent, "*");
}

// Checks the path against the schema; returns it in canonical form.
std::string check_path(const std::vector<Segment>& segs, const std::string& ov) {
  std::string generic, canon;
  const Section* sec = section_at(generic);
  for (const Segment& s : segs) {
    if (s.is_index) {
      if (!sec || sec->kind != Kind::list) throw Error(kLabel, canon, ov, "is not a list; it has no entries to index");
      generic += "[]";
      sec = section_at(generic);
      canon = index_key(canon, s.index);
      continue;
    }
    if (!sec) throw Error(kLabel, canon, ov, "is a single value; it has no keys");
    if (sec->kind == Kind::list)
      throw Error(kLabel, child_key(canon, s.key), ov, "expected a list index after '" + canon + "'");
    if (std::find(sec->keys.begin(), sec->keys.end(), s.key) == sec->keys.end())
      throw Error(kLabel, child_key(canon, s.key), ov, "unknown key; valid keys: " + join(sec->keys));
    generic = generic_child(generic, s.key);
    sec = section_at(generic);
    canon = child_key(canon, s.key);
  }
  return canon;
}

struct Edit {
  const std::vector<Segment>& segs;
  const YAML::Node& value;
  const std::string& ov;
};

// Sets segs[i..] below `node` (which sits at `path`) to the value.
void assign(YAML::Node node, const Edit& e, size_t i, const std::string& path) {
  const Segment& s = e.segs[i];
  const bool last = i + 1 == e.segs.size();
  if (s.is_index) {
    const std::string here = index_key(path, s.index);
    if (!node.IsSequence()) throw Error(kLabel, path, e.ov, "is not a list in the scenario");
    if (s.index >= node.size())
      throw Error(kLabel, here, e.ov, "index out of range; the list has " + std::to_string(node.size()) + " entries");
    if (last) node[s.index] = e.value;
    else assign(node[s.index], e, i + 1, here);
    return;
  }
  const std::string here = child_key(path, s.key);
  if (!node.IsMap() && !node.IsNull()) throw Error(kLabel, path, e.ov, "is not a mapping in the scenario");
  if (last) {
    node[s.key] = e.value;
    return;
  }
  const YAML::Node child = node[s.key];
  const bool next_is_index = e.segs[i + 1].is_index;
  if (!child.IsDefined() || child.IsNull()) {
    if (next_is_index) throw Error(kLabel, here, e.ov, "is not in the scenario; there is no list to index");
    node[s.key] = YAML::Node(YAML::NodeType::Map);
  } else if ((here == "model" || here == "cluster.hardware") && child.IsScalar()) {
    YAML::Node inline_preset(YAML::NodeType::Map);  // preset name -> {preset: NAME, ...}
    inline_preset["preset"] = child.Scalar();
    node[s.key] = inline_preset;
  }
  assign(node[s.key], e, i + 1, here);
}

}  // namespace

std::vector<std::string> apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides) {
  std::vector<std::string> touched;
  for (const std::string& ov : overrides) {
    const size_t eq = ov.find('=');
    if (eq == std::string::npos) throw Error(kLabel, "", ov, "expected key.path=value");
    const std::string path = ov.substr(0, eq);
    const std::vector<Segment> segs = parse_path(path, ov);
    const std::string canon = check_path(segs, ov);
    YAML::Node value;
    try {
      value = YAML::Load(ov.substr(eq + 1));
    } catch (const YAML::Exception& ex) {
      throw Error(kLabel, canon, ov, "the value is not valid YAML: " + ex.msg);
    }
    if (root.IsMap()) assign(root, Edit{segs, value, ov}, 0, "");
    touched.push_back(canon);
  }
  return touched;
}

bool blames_override(const Error& e, const std::vector<std::string>& touched) {
  const std::string& k = e.key();
  for (const auto& t : touched) {
    if (k == t) return true;
    if (k.size() > t.size() && k.compare(0, t.size(), t) == 0 && (k[t.size()] == '.' || k[t.size()] == '['))
      return true;
  }
  return false;
}

}  // namespace moesim::config
