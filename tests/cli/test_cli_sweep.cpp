// moesim sweep as a user runs it.
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using moesim::testing::read_text;
using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

const std::string kScenario = "'" + source_path("configs/scenarios/pangu-moge-vs-topk-910b.yaml") + "'";
const std::string kGrid = " --grid run.tokens_per_step=228,456 --grid workload.lognormal_sigma=0.3,1.0 --set run.steps=4";

// 2 x 2 = 4 points, 2 setups each: 8 rows plus the header, in point order whatever the threads.
TEST(CliSweep, FileAndStdoutAgreeAndResumeCompletesACutFile) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const std::string file = (dir / "s.csv").string();
  const auto r = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "' --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string full = read_text(file);
  EXPECT_EQ(std::count(full.begin(), full.end(), '\n'), 9);
  EXPECT_EQ(full.rfind("point,run.tokens_per_step,workload.lognormal_sigma,setup,", 0), 0u);
  const auto out = run_moesim("sweep " + kScenario + kGrid + " --threads 1");
  EXPECT_EQ(out.out, full) << "standard output, one thread, must give the same bytes";
  // Refuses to overwrite what is there.
  const auto again = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "'");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists; pass --resume"), std::string::npos) << again.err;
  EXPECT_EQ(read_text(file), full);
  // A kill after 4 rows and half a line: resume reruns the incomplete points only and ends identical.
  size_t cut = 0;
  for (int i = 0; i < 5; ++i) cut = full.find('\n', cut) + 1;
  std::ofstream(file, std::ios::trunc) << full.substr(0, cut + 15);
  const auto resumed = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "' --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_text(file), full);
  std::filesystem::remove_all(dir);
}

TEST(CliSweep, AFailingPointIsRecordedNotFatal) {
  const auto r = run_moesim("sweep " + kScenario + " --grid run.tokens_per_step=228,99999999 --set run.steps=2 -f jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int ok = 0, failed = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    (j.contains("error") ? failed : ok)++;
    if (j.contains("error")) {
      EXPECT_NE(j["error"].get<std::string>().find("largest batch that fits"), std::string::npos);
    }
  }
  EXPECT_EQ(ok, 2);      // point 0: both setups
  EXPECT_EQ(failed, 1);  // point 1: does not fit in memory
}

}  // namespace
