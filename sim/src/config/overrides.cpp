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

enum class Shape { top, model, cluster, run, router, placement, capacity, workload, setups, setup, leaf, id_list };

KeyList keys_of(Shape s) {
  switch (s) {
    case Shape::top: return schema::kTop;
    case Shape::model: return schema::kInlineModel;
    case Shape::cluster: return schema::kCluster;
    case Shape::run: return schema::kRun;
    case Shape::router: return schema::kRouter;
    case Shape::placement: return schema::kPlacement;
    case Shape::capacity: return schema::kCapacity;
    case Shape::workload: return schema::kWorkload;
    case Shape::setup: return schema::kSetup;
    default: return {};
  }
}

Shape child_shape(Shape parent, const std::string& key) {
  if (parent == Shape::placement) return key == "name" ? Shape::leaf : Shape::id_list;
  if (parent != Shape::top && parent != Shape::setup) return Shape::leaf;
  if (key == "model") return Shape::model;
  if (key == "cluster") return Shape::cluster;
  if (key == "run") return Shape::run;
  if (key == "router") return Shape::router;
  if (key == "placement") return Shape::placement;
  if (key == "capacity") return Shape::capacity;
  if (key == "workload") return Shape::workload;
  if (key == "setups") return Shape::setups;
  return Shape::leaf;
}

// Checks the path against the schema; returns it in canonical form.
std::string check_path(const std::vector<Segment>& segs, const std::string& ov) {
  Shape shape = Shape::top;
  std::string canon;
  for (const Segment& s : segs) {
    if (s.is_index) {
      if (shape != Shape::setups && shape != Shape::id_list)
        throw Error(kLabel, canon, ov, "is not a list; it has no entries to index");
      shape = shape == Shape::setups ? Shape::setup : Shape::leaf;
      canon = index_key(canon, s.index);
      continue;
    }
    if (shape == Shape::setups || shape == Shape::id_list)
      throw Error(kLabel, child_key(canon, s.key), ov, "expected a list index after '" + canon + "'");
    if (shape == Shape::leaf) throw Error(kLabel, canon, ov, "is a single value; it has no keys");
    const KeyList keys = keys_of(shape);
    if (std::find(keys.begin(), keys.end(), s.key) == keys.end())
      throw Error(kLabel, child_key(canon, s.key), ov, "unknown key; valid keys: " + join(keys));
    shape = child_shape(shape, s.key);
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
  } else if (here == "model" && child.IsScalar()) {
    YAML::Node inline_model(YAML::NodeType::Map);  // preset name -> {preset: NAME, ...}
    inline_model["preset"] = child.Scalar();
    node[s.key] = inline_model;
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
