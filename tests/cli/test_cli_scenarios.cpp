// Every shipped scenario (configs/scenarios/*.yaml) runs as a new user would run it, shortened to 2 steps
// (run.measure_from reset to 0, since a 2-step run has no room for a warm-up): exit 0, every setup in the
// JSON report with finite metrics, and the scenario listed in configs/README.md's scenario table.
#include "support/param_files.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>

using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> shipped_scenarios() {
  return moesim::testing::files_with_extension(source_path("configs/scenarios"), ".yaml");
}

class ShippedScenario : public ::testing::TestWithParam<fs::path> {};

TEST_P(ShippedScenario, RunsInTwoStepsAndReportsEverySetup) {
  const fs::path path = GetParam();
  const auto r = run_moesim("run '" + path.string() + "' --steps 2 --set run.measure_from=0 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& results = j["scenarios"][0]["results"];
  const YAML::Node yaml = YAML::LoadFile(path.string());
  const size_t setups = yaml["setups"] ? yaml["setups"].size() : 1;
  ASSERT_EQ(results.size(), setups) << path;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& res = results[i];
    // A trace workload reports only what it reads: no synthetic keys that do not apply to it.
    const auto& w = j["scenarios"][0]["scenario"]["setups"][i]["workload"];
    if (w["name"].get<std::string>().rfind("trace_", 0) == 0)
      EXPECT_EQ(w.size(), 3u) << path << ": " << w.dump() << " (expected name, path, format)";
    if (!res.contains("metrics")) continue;  // a dense model reports throughput only
    const double m = res["metrics"]["device_max_over_mean"]["mean"];
    EXPECT_TRUE(std::isfinite(m) && m >= 1.0) << path << " " << res["name"] << ": " << m;
  }
  // The scenario table of configs/README.md names every shipped scenario.
  const std::string readme = moesim::testing::read_text(source_path("configs/README.md"));
  EXPECT_NE(readme.find("| `" + path.stem().string() + "` |"), std::string::npos)
      << path.stem() << " is missing from configs/README.md's scenario table";
}

INSTANTIATE_TEST_SUITE_P(Configs, ShippedScenario, ::testing::ValuesIn(shipped_scenarios()), moesim::testing::stem_test_name);

}  // namespace
