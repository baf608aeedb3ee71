// `moesim validate` on malformed scenario files (tests/data/bad/*.yaml): the CLI must exit with code 2 and
// print "moesim: error: <file>: <key>: <problem> (got '<value>')" on standard error, naming the file, the
// key and the bad value.
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <vector>

using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

struct BadCase {
  std::string file;                 // under tests/data/bad/
  std::vector<std::string> expect;  // substrings of stderr besides the file name
};

std::string quoted(const std::string& p) { return "'" + p + "'"; }

void expect_validate_fails(const BadCase& c) {
  const std::string path = source_path("tests/data/bad/" + c.file);
  const auto r = run_moesim("validate " + quoted(path));
  EXPECT_EQ(r.exit_code, 2) << c.file << ": " << r.err;
  EXPECT_EQ(r.err.rfind("moesim: error: ", 0), 0u) << c.file << ": " << r.err;
  EXPECT_NE(r.err.find(path), std::string::npos) << c.file << ": stderr must name the file: " << r.err;
  for (const auto& s : c.expect) EXPECT_NE(r.err.find(s), std::string::npos) << c.file << ": want '" << s << "' in: " << r.err;
}

TEST(CliErrors, YamlSyntaxError) {
  expect_validate_fails({"syntax_error.yaml", {"line 6, column 2", "YAML syntax error"}});
}

TEST(CliErrors, UnknownKey) {
  expect_validate_fails({"unknown_key.yaml", {"setups[1].router.kk", "unknown key; valid keys: name, k, groups"}});
}

TEST(CliErrors, UnknownRouter) {
  expect_validate_fails({"unknown_router.yaml", {"setups[1].router.name", "'mogee'", "unknown router; valid: "}});
}

TEST(CliErrors, KLargerThanTheExperts) {
  expect_validate_fails({"k_too_large.yaml", {"setups[0].router.k", "'65'", "64 routed experts"}});
}

TEST(CliErrors, GroupsNotDividingTheExperts) {
  expect_validate_fails({"groups_not_dividing.yaml", {"setups[0].router.groups", "'7'", "must divide"}});
}

TEST(CliErrors, NegativeCount) {
  expect_validate_fails({"negative_count.yaml", {"cluster.devices", "'-8'", "expected a positive integer"}});
}

TEST(CliErrors, MissingPreset) {
  expect_validate_fails({"missing_preset.yaml", {"model", "'pangu-ultra'", "no such model preset; available: "}});
}

TEST(CliErrors, BadSetPathNamesTheOverride) {
  const auto r = run_moesim("validate " + quoted(source_path("configs/scenarios/pangu-moe-vs-moge.yaml")) +
                            " --set 'setups[1].router.kk=4'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("moesim: error: --set: setups[1].router.kk: unknown key"), std::string::npos) << r.err;
}

TEST(CliErrors, GoodScenarioValidates) {
  const auto r = run_moesim("validate " + quoted(source_path("configs/scenarios/pangu-moe-vs-moge.yaml")));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

}  // namespace
