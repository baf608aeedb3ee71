// Golden scenarios: every tests/golden/<name>.yaml runs through the library and its figures are
// checked against tests/golden/<name>.expect, one line per figure:
//   <setup> <metric> <mean|p50|p99|max|mean[N:]> <expected> <tolerance>   # where the expectation comes from
// mean[N:] is the mean over steps N, N+1, .. of the per-step values (each the mean over the layers),
// e.g. to leave out an in-simulation EPLB warm-up.
// The derivation of each expected value is written beside it in the .expect file.
#include "moesim/config.hpp"
#include "moesim/simulator.hpp"
#include "support/param_files.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace moesim;

namespace {

struct Expectation {
  std::string setup, metric, stat;
  double expected = 0, tolerance = 0;
  int line = 0;
};

std::vector<Expectation> read_expectations(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Expectation> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = line.substr(0, line.find('#'));
    std::istringstream ss(line);
    Expectation e;
    e.line = n;
    if (!(ss >> e.setup)) continue;
    ss >> e.metric >> e.stat >> e.expected >> e.tolerance;
    EXPECT_FALSE(ss.fail()) << path << ":" << n << ": malformed expectation";
    out.push_back(e);
  }
  return out;
}

double pick(const SetupResult& s, int m, const std::string& stat) {
  const Distribution& d = s.overall[m];
  if (stat.rfind("mean[", 0) == 0 && stat.size() > 7 && stat.compare(stat.size() - 2, 2, ":]") == 0) {
    const size_t from = std::stoul(stat.substr(5, stat.size() - 7));
    if (from >= s.per_step.size()) {
      ADD_FAILURE() << stat << ": the run has only " << s.per_step.size() << " steps";
      return NAN;
    }
    double sum = 0;
    for (size_t t = from; t < s.per_step.size(); ++t) sum += s.per_step[t][m];
    return sum / static_cast<double>(s.per_step.size() - from);
  }
  if (stat == "mean") return d.mean;
  if (stat == "p50") return d.p50;
  if (stat == "p99") return d.p99;
  if (stat == "max") return d.max;
  ADD_FAILURE() << "unknown statistic " << stat;
  return NAN;
}

const SetupResult* find_setup(const ScenarioResult& r, const std::string& name) {
  for (const auto& s : r.setups)
    if (s.spec.name == name) return &s;
  return nullptr;
}

int metric_index(const std::string& name) {
  for (int m = 0; m < kNumMetrics; ++m)
    if (metric_name(static_cast<Metric>(m)) == name) return m;
  return -1;
}

std::vector<fs::path> golden_files() {
  return moesim::testing::files_with_extension(fs::path(MOESIM_SOURCE_DIR) / "tests" / "golden", ".expect");
}

class Golden : public ::testing::TestWithParam<fs::path> {};

TEST_P(Golden, FiguresWithinTolerance) {
  const fs::path expect = GetParam();
  fs::path scenario = expect;
  scenario.replace_extension(".yaml");
  const ScenarioSpec spec = load_scenario(scenario.string(), {}, builtin_registries());
  const ScenarioResult result = simulate(spec, builtin_registries());
  const auto expectations = read_expectations(expect);
  ASSERT_FALSE(expectations.empty()) << expect;
  for (const auto& e : expectations) {
    SCOPED_TRACE(expect.filename().string() + ":" + std::to_string(e.line));
    const SetupResult* s = find_setup(result, e.setup);
    ASSERT_NE(s, nullptr) << "no setup " << e.setup;
    const int m = metric_index(e.metric);
    ASSERT_GE(m, 0) << "no metric " << e.metric;
    EXPECT_NEAR(pick(*s, m, e.stat), e.expected, e.tolerance) << e.setup << " " << e.metric << " " << e.stat;
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Golden, ::testing::ValuesIn(golden_files()), moesim::testing::stem_test_name);

}  // namespace
