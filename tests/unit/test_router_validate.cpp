// Unit tests of the built-in routers' validators: a spec that breaks a limit is rejected with an error
// naming the file, the key path, the value and the limit (the messages are the validators' own, so each
// expectation is the exact text a user sees).
#include "moesim/error.hpp"
#include "moesim/registries.hpp"
#include "moesim/router.hpp"
#include "support/router_cases.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace moesim {
namespace {

using test::spec_of;

// Each validator names the violated limit, the key path and the value.
void expect_invalid(RouterSpec s, const std::string& key, const std::string& value, const std::string& problem) {
  Registries reg;
  register_builtin_routers(reg.routers);
  try {
    reg.routers.get(s.name).factory.validate(s, "s.yaml", "setups[1].router");
    ADD_FAILURE() << "no error for " << key << " = " << value;
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "s.yaml");
    EXPECT_EQ(e.key(), key);
    EXPECT_EQ(e.value(), value);
    EXPECT_EQ(e.problem(), problem);
  }
}

TEST(Validate, NamesTheViolatedLimit) {
  expect_invalid(spec_of("topk", 64, 0), "setups[1].router.k", "0", "k must be between 1 and the number of experts (64)");
  expect_invalid(spec_of("hash", 64, 65), "setups[1].router.k", "65", "k must be between 1 and the number of experts (64)");
  RouterSpec g = spec_of("moge", 64, 8);
  g.groups = 3;
  expect_invalid(g, "setups[1].router.groups", "3", "groups must divide the number of experts (64)");
  g.groups = 16;
  expect_invalid(g, "setups[1].router.k", "8", "moge needs k to be a multiple of groups (16)");
  RouterSpec d = spec_of("group_limited", 64, 8);
  d.groups = 8;
  d.topk_group = 9;
  expect_invalid(d, "setups[1].router.topk_group", "9", "topk_group must be between 1 and groups (8), or 0 for all groups");
  d.topk_group = 1;
  d.k = 9;
  expect_invalid(d, "setups[1].router.k", "9", "k must be at most topk_group * experts per group (1 * 8 = 8)");
  d.groups = 64;
  d.k = 1;
  expect_invalid(d, "setups[1].router.groups", "64",
                 "group_limited needs at least 2 experts per group (64 experts / 64 groups = 1)");
  RouterSpec c = spec_of("expert_choice", 64, 8);
  c.capacity_factor = -0.5;
  expect_invalid(c, "setups[1].router.capacity_factor", "-0.5",
                 "capacity_factor must be a finite number >= 0 (0 means 1.0)");
  c.capacity_factor = 0;
  c.bias.assign(64, 0.0f);
  expect_invalid(c, "setups[1].router.bias", "64 entries",
                 "the expert_choice router does not select with a bias; use topk, moge or group_limited, or leave it out");
  RouterSpec b = spec_of("topk", 4, 2);
  b.bias = {0, 0, 0};
  expect_invalid(b, "setups[1].router.bias", "3 entries", "the bias needs one entry per expert (4)");
  b.bias = {0, 0, std::numeric_limits<float>::infinity(), 0};
  expect_invalid(b, "setups[1].router.bias[2]", "inf", "bias entries must be finite");
}

}  // namespace
}  // namespace moesim
