// Runs the moesim binary as a user would: the default comparison, determinism across runs and thread
// counts, output files, compare, list and --help.
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

const std::string kDefault = "'" + source_path("configs/scenarios/pangu-moe-vs-moge.yaml") + "'";

TEST(CliRun, DefaultComparisonPrintsBothSetupsAndRatio) {
  const auto r = run_moesim("run " + kDefault + " --steps 20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imbalance score (IS)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top8"), std::string::npos);
  EXPECT_NE(r.out.find("moge/top8"), std::string::npos) << "the ratio column names both setups";
}

TEST(CliRun, SameSeedGivesByteIdenticalJsonWhateverTheThreads) {
  const std::string base = "run " + kDefault + " --format json --steps 30 --seed 11";
  const auto one = run_moesim(base + " --threads 1");
  const auto two = run_moesim(base + " --threads 2");
  const auto again = run_moesim(base + " --threads 1");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_EQ(one.out, again.out);
  const auto other_seed = run_moesim("run " + kDefault + " --format json --steps 30 --seed 12");
  EXPECT_NE(one.out, other_seed.out) << "a different seed must change the token stream";
}

TEST(CliRun, JsonCarriesSchemaVersionAndResolvedScenario) {
  const auto r = run_moesim("run " + kDefault + " --format json --steps 5 --set run.tokens_per_step=32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 1);
  const auto& sc = j["scenarios"][0];
  EXPECT_EQ(sc["scenario"]["run"]["tokens_per_step"], 32) << "--set must show in the resolved scenario";
  EXPECT_EQ(sc["scenario"]["run"]["steps"], 5);
  EXPECT_EQ(sc["scenario"]["model"]["num_experts"], 64);
  ASSERT_EQ(sc["results"].size(), 2u);
  // MoGE with group j on device j: every device serves exactly one assignment per token per step.
  EXPECT_EQ(sc["results"][1]["metrics"]["device_max_over_mean"]["max"], 1.0);
  EXPECT_EQ(sc["results"][1]["metrics"]["imbalance_score"]["max"], 0.0);
}

TEST(CliRun, CsvHasOneRowPerSetupOrPerLayer) {
  const auto r = run_moesim("run " + kDefault + " --format csv --steps 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << "header + 2 setups:\n" << r.out;
  const auto pl = run_moesim("run " + kDefault + " --format csv --steps 5 --per-layer --set run.layers=3");
  ASSERT_EQ(pl.exit_code, 0) << pl.err;
  EXPECT_EQ(std::count(pl.out.begin(), pl.out.end(), '\n'), 1 + 2 * 3) << pl.out;
}

TEST(CliRun, OutputFileIsWrittenWhole) {
  const auto dir = moesim::testing::make_temp_dir("out");
  const auto path = dir / "report.json";
  const auto r = run_moesim("run " + kDefault + " --format json --steps 5 --output '" + path.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto text = moesim::testing::read_text(path);
  EXPECT_TRUE(nlohmann::json::accept(text)) << text;
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "no temporary file is left behind";
  std::filesystem::remove_all(dir);
}

TEST(CliRun, CompareTwoScenariosSideBySide) {
  const auto r = run_moesim("compare " + kDefault + " " + kDefault + " --steps 5 --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << "header + 2 scenarios x 2 setups";
}

TEST(CliRun, ListShowsEveryRegistry) {
  const auto r = run_moesim("list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"topk", "moge", "group_limited", "expert_choice", "hash", "contiguous", "round_robin",
                           "by_group", "explicit", "synthetic", "pangu-pro-moe", "deepseek-v3", "qwen3-30b-a3b",
                           "mixtral-8x7b"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << " missing from:\n" << r.out;
  const auto bad = run_moesim("list gadgets");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("gadgets"), std::string::npos) << bad.err;
}

TEST(CliRun, HelpOnEverySubcommand) {
  for (const char* sub : {"run", "compare", "validate", "list"}) {
    const auto r = run_moesim(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << sub << ":\n" << r.out;
  }
  const auto run_help = run_moesim("run --help");
  for (const char* opt : {"--format", "--seed", "--steps", "--threads", "--set", "--output", "--per-layer"})
    EXPECT_NE(run_help.out.find(opt), std::string::npos) << opt;
}

}  // namespace
