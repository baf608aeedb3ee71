// routing/validate.cpp: the constraints each router puts on its RouterSpec, as user errors.
#include "moesim/error.hpp"
#include "routing/routers.hpp"

#include <cmath>
#include <string>

namespace moesim::routing {

namespace {

std::string experts_text(const RouterSpec& s) { return "the number of experts (" + std::to_string(s.num_experts) + ")"; }

// Rules shared by every router: experts, groups, k, scaling.
void validate_common(const RouterSpec& s, const std::string& file, const std::string& key) {
  if (s.num_experts < 1)
    throw Error(file, key + ".num_experts", std::to_string(s.num_experts), "a router needs at least 1 expert");
  if (s.groups < 1) throw Error(file, key + ".groups", std::to_string(s.groups), "groups must be at least 1");
  if (s.num_experts % s.groups != 0)
    throw Error(file, key + ".groups", std::to_string(s.groups), "groups must divide " + experts_text(s));
  if (s.k < 1 || s.k > s.num_experts)
    throw Error(file, key + ".k", std::to_string(s.k), "k must be between 1 and " + experts_text(s));
  if (!std::isfinite(s.scaling) || s.scaling < 0)
    throw Error(file, key + ".scaling", value_text(s.scaling), "scaling must be a finite number >= 0");
  if (!s.bias.empty() && static_cast<int>(s.bias.size()) != s.num_experts)
    throw Error(file, key + ".bias", std::to_string(s.bias.size()) + " entries",
                "the bias needs one entry per expert (" + std::to_string(s.num_experts) + ")");
  for (size_t e = 0; e < s.bias.size(); ++e)
    if (!std::isfinite(s.bias[e]))
      throw Error(file, key + ".bias[" + std::to_string(e) + "]", value_text(s.bias[e]), "bias entries must be finite");
  if (s.voted_experts != 0 && s.name != "moge")
    throw Error(file, key + ".voted_experts", std::to_string(s.voted_experts),
                "voting (the 300I Duo restriction) applies to the moge router only; use 0 here");
}

}  // namespace

void validate_topk(const RouterSpec& s, const std::string& file, const std::string& key) { validate_common(s, file, key); }

// Routers that ignore a bias refuse a static bias or the bias update rather than silently doing nothing.
static void reject_bias_update(const RouterSpec& s, const std::string& file, const std::string& key) {
  if (s.bias_update_speed != 0)
    throw Error(file, key + ".bias_update_speed", value_text(s.bias_update_speed),
                "the " + s.name + " router does not select with a bias; use topk, moge or group_limited, or 0");
  if (!s.bias.empty())
    throw Error(file, key + ".bias", std::to_string(s.bias.size()) + " entries",
                "the " + s.name + " router does not select with a bias; use topk, moge or group_limited, or leave it out");
}

void validate_hash(const RouterSpec& s, const std::string& file, const std::string& key) {
  validate_common(s, file, key);
  reject_bias_update(s, file, key);
}

void validate_moge(const RouterSpec& s, const std::string& file, const std::string& key) {
  validate_common(s, file, key);
  if (s.k % s.groups != 0)
    throw Error(file, key + ".k", std::to_string(s.k),
                "moge needs k to be a multiple of groups (" + std::to_string(s.groups) + ")");
  const int per_group = s.num_experts / s.groups, k_group = s.k / s.groups;
  if (s.voted_experts != 0 && (s.voted_experts < k_group || s.voted_experts > per_group))
    throw Error(file, key + ".voted_experts", std::to_string(s.voted_experts),
                "voted_experts must be 0 (off) or between k / groups (" + std::to_string(k_group) +
                    ") and the experts per group (" + std::to_string(per_group) + ")");
}

// DeepSeek-V3 group-limited routing. topk_group 0 means all groups (scenario.hpp).
void validate_group_limited(const RouterSpec& s, const std::string& file, const std::string& key) {
  validate_common(s, file, key);
  const int per_group = s.num_experts / s.groups;
  if (per_group < 2)
    throw Error(file, key + ".groups", std::to_string(s.groups),
                "group_limited needs at least 2 experts per group (" + std::to_string(s.num_experts) + " experts / " +
                    std::to_string(s.groups) + " groups = " + std::to_string(per_group) + ")");
  if (s.topk_group < 0 || s.topk_group > s.groups)
    throw Error(file, key + ".topk_group", std::to_string(s.topk_group),
                "topk_group must be between 1 and groups (" + std::to_string(s.groups) + "), or 0 for all groups");
  const int kept = s.topk_group == 0 ? s.groups : s.topk_group;
  if (s.k > kept * per_group)
    throw Error(file, key + ".k", std::to_string(s.k),
                "k must be at most topk_group * experts per group (" + std::to_string(kept) + " * " +
                    std::to_string(per_group) + " = " + std::to_string(kept * per_group) + ")");
}

void validate_expert_choice(const RouterSpec& s, const std::string& file, const std::string& key) {
  validate_common(s, file, key);
  reject_bias_update(s, file, key);
  if (!std::isfinite(s.capacity_factor) || s.capacity_factor < 0)
    throw Error(file, key + ".capacity_factor", value_text(s.capacity_factor),
                "capacity_factor must be a finite number >= 0 (0 means 1.0)");
}

}  // namespace moesim::routing
