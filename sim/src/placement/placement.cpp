// placement/placement.cpp: Placement::from_physical, the one way every placement is assembled.
#include "moesim/error.hpp"
#include "moesim/placement.hpp"

#include <algorithm>
#include <string>

namespace moesim {

namespace {
std::string indexed(const std::string& key, const char* field, size_t i) {
  return key + "." + field + "[" + std::to_string(i) + "]";
}
}  // namespace

// phy2log, phy2dev: [num_physical]. Builds log2phy [num_logical, max_replicas] (slots of each expert in
// increasing physical order, -1 padded) and logcnt [num_logical].
Placement Placement::from_physical(int num_logical, int num_devices, std::vector<int32_t> phy2log,
                                   std::vector<int32_t> phy2dev, const std::string& file, const std::string& key) {
  if (num_logical <= 0) throw Error(file, key, std::to_string(num_logical), "a placement needs at least one logical expert");
  if (num_devices <= 0) throw Error(file, key, std::to_string(num_devices), "a placement needs at least one device");
  if (phy2dev.size() != phy2log.size())
    throw Error(file, key + ".phy2dev", std::to_string(phy2dev.size()) + " entries",
                "needs one device per physical slot (phy2log has " + std::to_string(phy2log.size()) + ")");
  Placement p;
  p.num_logical = num_logical;
  p.num_devices = num_devices;
  p.logcnt.assign(static_cast<size_t>(num_logical), 0);
  for (size_t i = 0; i < phy2log.size(); ++i) {
    if (phy2log[i] < 0 || phy2log[i] >= num_logical)
      throw Error(file, indexed(key, "phy2log", i), std::to_string(phy2log[i]),
                  "logical expert id must be in [0, " + std::to_string(num_logical) + ")");
    if (phy2dev[i] < 0 || phy2dev[i] >= num_devices)
      throw Error(file, indexed(key, "phy2dev", i), std::to_string(phy2dev[i]),
                  "device id must be in [0, " + std::to_string(num_devices) + ")");
    ++p.logcnt[static_cast<size_t>(phy2log[i])];
  }
  for (int e = 0; e < num_logical; ++e)
    if (p.logcnt[static_cast<size_t>(e)] == 0)
      throw Error(file, key + ".phy2log", std::to_string(e),
                  "logical expert has no physical slot; every expert in [0, " + std::to_string(num_logical) +
                      ") needs at least one");
  p.max_replicas = *std::max_element(p.logcnt.begin(), p.logcnt.end());
  p.log2phy.assign(static_cast<size_t>(num_logical) * p.max_replicas, -1);
  std::vector<int32_t> filled(static_cast<size_t>(num_logical), 0);
  for (size_t i = 0; i < phy2log.size(); ++i) {
    const auto e = static_cast<size_t>(phy2log[i]);
    p.log2phy[e * p.max_replicas + filled[e]++] = static_cast<int32_t>(i);
  }
  p.phy2log = std::move(phy2log);
  p.phy2dev = std::move(phy2dev);
  return p;
}

}  // namespace moesim
