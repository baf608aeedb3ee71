// Command-line mistakes a user makes: each exits 2 with a short message naming the option or key and
// the bad value; `validate` refuses what `run` would refuse; `compare` refuses different token streams.
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using moesim::testing::make_temp_dir;
using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

const std::string kDefault = "'" + source_path("configs/scenarios/pangu-moe-vs-moge.yaml") + "'";

TEST(CliUsage, ANegativeSeedSaysWhatItExpected) {
  const auto r = run_moesim("run " + kDefault + " --seed -1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seed: must be at least 0 (got '-1')"), std::string::npos) << r.err;
  EXPECT_LT(r.err.size(), 200u) << "no 300-digit range in the message: " << r.err;
  const auto s = run_moesim("run " + kDefault + " --steps 2.5");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("--steps: expected a whole number (got '2.5')"), std::string::npos) << s.err;
}

TEST(CliUsage, UnknownOptionExitsTwo) {
  const auto r = run_moesim("run " + kDefault + " --colour=blue");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--colour"), std::string::npos) << r.err;
}

TEST(CliUsage, PerLayerAndPerStepNeedCsv) {
  // The table has no per-layer rows: the flag would be ignored silently, so it is refused.
  const auto r = run_moesim("run " + kDefault + " --steps 2 --per-layer");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--per-layer: applies to --format csv"), std::string::npos) << r.err;
  const auto j = run_moesim("run " + kDefault + " --steps 2 --per-step -f json");
  EXPECT_EQ(j.exit_code, 2);
  EXPECT_NE(j.err.find("--per-step: applies to --format csv"), std::string::npos) << j.err;
  EXPECT_EQ(run_moesim("run " + kDefault + " --steps 2 --per-step -f csv").exit_code, 0);
}

TEST(CliUsage, ValidateRefusesWhatRunRefuses) {
  // An explicit placement without its map is only caught when the placement is built: validate must
  // build it too, and give run's message.
  const std::string bad = kDefault + " --set setups[1].placement.name=explicit";
  const auto run = run_moesim("run " + bad + " --steps 1");
  const auto validate = run_moesim("validate " + bad);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(validate.exit_code, 2) << validate.out;
  EXPECT_EQ(validate.err, run.err);
  EXPECT_NE(validate.err.find("setups[1].placement"), std::string::npos) << validate.err;
}

TEST(CliUsage, CompareNeedsOneTokenStream) {
  const auto dir = make_temp_dir("usage");
  const auto other = dir / "seed7.yaml";
  {
    std::ifstream in(source_path("configs/scenarios/pangu-moe-vs-moge.yaml"));
    std::ofstream out(other);
    out << in.rdbuf() << "\n";
  }
  // Same scenario, seed 7 instead of 1 (a later `run:` key would be a duplicate, so --set it per file is
  // impossible; rewrite the copy's seed line instead).
  {
    std::ifstream in(other);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find("seed: 1");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 7, "seed: 7");
    std::ofstream(other) << text;
  }
  const std::string both = kDefault + " '" + other.string() + "' --steps 2";
  const auto r = run_moesim("compare " + both);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(other.string() + ": run.seed: compare runs every scenario on the same token stream"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(got '7')"), std::string::npos) << r.err;
  EXPECT_EQ(run_moesim("compare " + both + " --seed 3").exit_code, 0) << "--seed gives every scenario one seed";
  std::filesystem::remove_all(dir);
}

}  // namespace
