// tests/support/router_cases.hpp: small router test cases built by hand: a spec by name, scores from
// literal rows, and one routing call through the built-in registry (one thread).
#pragma once

#include "moesim/registries.hpp"
#include "moesim/router.hpp"

#include <initializer_list>
#include <string>
#include <vector>

namespace moesim::test {

inline RouterSpec spec_of(const std::string& name, int experts, int k) {
  RouterSpec s;
  s.name = name;
  s.num_experts = experts;
  s.k = k;
  return s;
}

// rows: one initializer list of logits per token -> scores [tokens, experts].
inline Scores scores_of(std::initializer_list<std::vector<double>> rows) {
  Scores m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index t = 0;
  for (const auto& r : rows) {
    for (size_t e = 0; e < r.size(); ++e) m(t, static_cast<Eigen::Index>(e)) = static_cast<float>(r[e]);
    ++t;
  }
  return m;
}

inline Assignments route(const RouterSpec& spec, const Scores& scores, const std::vector<float>& bias = {}) {
  Registries reg;
  register_builtin_routers(reg.routers);
  const RouterEntry& entry = reg.routers.get(spec.name).factory;
  entry.validate(spec, "test.yaml", "router");
  ThreadPool pool(1);
  Assignments out;
  entry.make(spec)->route(scores, bias, out, pool);
  return out;
}

}  // namespace moesim::test
