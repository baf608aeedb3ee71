// moesim/registry.hpp: name -> factory plus a one-line description, one registry per plug-in kind.
#pragma once

#include "moesim/error.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace moesim {

template <class Factory>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string description;  // one line: what it does and, where it applies, its source
    Factory factory;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(std::string name, std::string description, Factory factory) {
    MOESIM_CHECK(entries_.find(name) == entries_.end(), "duplicate " + kind_ + " '" + name + "'");
    Entry e{name, std::move(description), std::move(factory)};
    entries_.emplace(std::move(name), std::move(e));
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // Throws Error(file, key, name, "unknown <kind>; valid: a, b, c") when absent.
  const Entry& get(const std::string& name, const std::string& file = "", const std::string& key = "") const {
    auto it = entries_.find(name);
    if (it == entries_.end()) throw Error(file, key, name, "unknown " + kind_ + "; valid: " + names_joined());
    return it->second;
  }

  std::vector<const Entry*> entries() const {  // sorted by name
    std::vector<const Entry*> out;
    for (const auto& [_, e] : entries_) out.push_back(&e);
    return out;
  }

  std::string names_joined() const {
    std::string s;
    for (const auto& [n, _] : entries_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace moesim
