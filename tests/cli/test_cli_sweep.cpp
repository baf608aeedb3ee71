// moesim sweep as a user runs it: files, resume and its fingerprint check, failed points, deployment keys
// and zipped axes, the progress bar, and MPI ranks.
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using moesim::testing::read_text;
using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

const std::string kScenarioPath = source_path("configs/scenarios/pangu-moge-vs-topk-910b.yaml");
const std::string kScenario = "'" + kScenarioPath + "'";
const std::string kGrid = " --grid run.tokens_per_step=228,456 --grid workload.lognormal_sigma=0.3,1.0 --set run.steps=4";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The first `n` lines of text plus `extra` characters of the next (a kill in the middle of a write).
std::string cut(const std::string& text, int n, size_t extra) {
  size_t at = 0;
  for (int i = 0; i < n; ++i) at = text.find('\n', at) + 1;
  return text.substr(0, at + extra);
}

// 2 x 2 = 4 points, 2 setups each: the fingerprint line, the header and 8 rows, in point order whatever
// the threads.
TEST(CliSweep, FileAndStdoutAgreeAndResumeCompletesACutFile) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const std::string file = (dir / "s.csv").string();
  const auto r = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "' --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "quiet when stderr is not a terminal";
  const std::string full = read_text(file);
  const auto lines = lines_of(full);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0].rfind("# {\"moesim_sweep\":1,\"scenario\":", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\"grid\":[{\"keys\":[\"run.tokens_per_step\"],\"values\":[[\"228\"],[\"456\"]]}"), std::string::npos);
  EXPECT_NE(lines[0].find("\"set\":[\"run.steps=4\"]"), std::string::npos);
  EXPECT_EQ(lines[1].rfind("point,run.tokens_per_step,workload.lognormal_sigma,setup,", 0), 0u);
  EXPECT_EQ(lines[2].rfind("0,228,0.3,top8,", 0), 0u);
  EXPECT_EQ(lines[9].rfind("3,456,1.0,moge,", 0), 0u);
  const auto out = run_moesim("sweep " + kScenario + kGrid + " --threads 1");
  EXPECT_EQ(out.out, full) << "standard output, one thread, must give the same bytes";
  // Refuses to overwrite what is there.
  const auto again = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "'");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists; pass --resume"), std::string::npos) << again.err;
  EXPECT_EQ(read_text(file), full);
  // A kill after 3 rows and half a line: resume reruns the incomplete points only and ends identical.
  std::ofstream(file, std::ios::trunc) << cut(full, 2 + 3, 15);
  const auto resumed = run_moesim("sweep " + kScenario + kGrid + " -o '" + file + "' --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_text(file), full);
  fs::remove_all(dir);
}

// JSON lines: a first {"sweep": fingerprint} line, then one object per setup and point.
TEST(CliSweep, JsonLinesResumeCompletesACutFile) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const std::string file = (dir / "s.jsonl").string();
  ASSERT_EQ(run_moesim("sweep " + kScenario + kGrid + " -f jsonl -o '" + file + "'").exit_code, 0);
  const std::string full = read_text(file);
  const auto lines = lines_of(full);
  ASSERT_EQ(lines.size(), 9u);
  const auto meta = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(meta["sweep"]["set"], nlohmann::json::array({"run.steps=4"}));
  EXPECT_EQ(nlohmann::json::parse(lines[8])["point"], 3);
  std::ofstream(file, std::ios::trunc) << cut(full, 1 + 5, 40);  // points 0, 1 and half of 2
  const auto resumed = run_moesim("sweep " + kScenario + kGrid + " -f jsonl -o '" + file + "' --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_text(file), full);
  fs::remove_all(dir);
}

// --resume checks the fingerprint: another --set, --grid or scenario content is refused, the file untouched.
TEST(CliSweep, ResumeRefusesADifferentSweep) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  for (const std::string format : {"csv", "jsonl"}) {
    const std::string file = (dir / ("s." + format)).string(), f = " -f " + format + " -o '" + file + "' --resume";
    ASSERT_EQ(run_moesim("sweep " + kScenario + kGrid + " -f " + format + " -o '" + file + "'").exit_code, 0);
    const std::string before = read_text(file);
    const auto set = run_moesim("sweep " + kScenario + kGrid + " --set run.seed=7" + f);
    EXPECT_EQ(set.exit_code, 2);
    EXPECT_NE(set.err.find("--resume: was written by a different sweep: its --set differs"), std::string::npos) << set.err;
    const auto grid = run_moesim("sweep " + kScenario + " --grid run.tokens_per_step=228,912 --grid "
                                 "workload.lognormal_sigma=0.3,1.0 --set run.steps=4" + f);
    EXPECT_EQ(grid.exit_code, 2);
    EXPECT_NE(grid.err.find("its --grid differs"), std::string::npos) << grid.err;
    // The same scenario name, other bytes (one more comment line).
    const fs::path copy = dir / "scenario.yaml";
    std::ofstream(copy) << read_text(kScenarioPath);
    const std::string copy_arg = "'" + copy.string() + "'";
    const std::string file2 = (dir / ("t." + format)).string(), f2 = " -f " + format + " -o '" + file2 + "'";
    ASSERT_EQ(run_moesim("sweep " + copy_arg + kGrid + f2).exit_code, 0);
    std::ofstream(copy, std::ios::app) << "# edited\n";
    const auto edited = run_moesim("sweep " + copy_arg + kGrid + f2 + " --resume");
    EXPECT_EQ(edited.exit_code, 2);
    EXPECT_NE(edited.err.find("its scenario file contents differs"), std::string::npos) << edited.err;
    EXPECT_EQ(read_text(file), before);
  }
  // A file without a fingerprint (not a sweep's, or an older moesim's) cannot be shown to be this sweep.
  const std::string plain = (dir / "plain.csv").string();
  std::ofstream(plain) << "point,setup\n0,a\n";
  const auto r = run_moesim("sweep " + kScenario + kGrid + " -o '" + plain + "' --resume");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no sweep fingerprint line"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

// A point that fails is recorded in its place, the first as any other: 99999999 sequences do not fit.
TEST(CliSweep, AFailingPointIsRecordedWhereverItIs) {
  for (const std::string grid : {"99999999,228", "228,99999999"}) {
    const auto r = run_moesim("sweep " + kScenario + " --grid run.tokens_per_step=" + grid + " --set run.steps=2 -f jsonl");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t bad = grid.rfind("9999", 0) == 0 ? 0 : 1;
    int ok = 0, failed = 0;
    for (const auto& line : lines_of(r.out)) {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("sweep")) continue;
      if (j.contains("error")) {
        ++failed;
        EXPECT_EQ(j["point"], bad);
        EXPECT_NE(j["error"].get<std::string>().find("largest batch that fits"), std::string::npos);
      } else {
        ++ok;
        EXPECT_EQ(j["point"], 1 - bad);
      }
    }
    EXPECT_EQ(ok, 2);      // both setups of the good point
    EXPECT_EQ(failed, 1);  // one line for the failed point
    EXPECT_NE(r.err.find("moesim: sweep: 1 of 2 points failed"), std::string::npos) << r.err;
  }
  const auto all = run_moesim("sweep " + kScenario + " --grid run.tokens_per_step=99999998,99999999 --set run.steps=2");
  EXPECT_EQ(all.exit_code, 2);
  EXPECT_NE(all.err.find("every point failed (each line carries its error)"), std::string::npos) << all.err;
  EXPECT_EQ(lines_of(all.out).size(), 4u) << "the fingerprint, the header and both failed points";
}

// deployment.* keys are grid axes; cluster.devices and the layout vary together in a zipped axis; a plain
// cluster.devices axis on a scenario with a fixed layout says what to do.
TEST(CliSweep, DeploymentKeysAndZippedAxes) {
  const auto ctx = run_moesim("sweep " + kScenario + " --grid deployment.context_length=1024,2048 --set run.steps=2 -f jsonl");
  ASSERT_EQ(ctx.exit_code, 0) << ctx.err;
  std::map<std::string, double> attention_s;  // context -> top8's attention time (grows with the KV length)
  for (const auto& line : lines_of(ctx.out)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("point") && j["setup"] == "top8")
      attention_s[j["grid"]["deployment.context_length"]] = j["figures"]["attention_s"].get<double>();
  }
  ASSERT_EQ(attention_s.size(), 2u);
  EXPECT_GT(attention_s["2048"], attention_s["1024"]);

  const auto zipped = run_moesim("sweep " + kScenario +
                                 " --grid 'cluster.devices,deployment.attention.dp,deployment.experts.ep=[8,2,8],[16,4,16]'"
                                 " --set run.steps=2");
  ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
  const auto rows = lines_of(zipped.out);
  ASSERT_EQ(rows.size(), 2u + 4u);
  EXPECT_EQ(rows[1].rfind("point,cluster.devices,deployment.attention.dp,deployment.experts.ep,setup,", 0), 0u);
  EXPECT_EQ(rows[4].rfind("1,16,4,16,top8,", 0), 0u);
  EXPECT_EQ(rows[4].back(), ',') << "no error";

  const auto plain = run_moesim("sweep " + kScenario + " --grid cluster.devices=8,16 --set run.steps=2");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("deployment.attention: dp x tp must equal cluster.devices (16) (got '2 x 4'); the sweep varies "
                           "cluster.devices but the scenario fixes the layout: vary them together in one zipped axis, "
                           "e.g. --grid 'cluster.devices,deployment.attention.dp,deployment.experts.ep=[8,2,8],[16,4,16]'"),
            std::string::npos)
      << plain.out;
  const auto ragged = run_moesim("sweep " + kScenario + " --grid 'cluster.devices,deployment.attention.dp=[8,2],[16]'");
  EXPECT_EQ(ragged.exit_code, 2);
  EXPECT_NE(ragged.err.find("value 2 '[16]' has 1 entries; each tuple needs 2, one per key"), std::string::npos) << ragged.err;
}

// On a terminal stderr (here a pseudo-terminal from util-linux `script`) a bar shows the rate and the
// time left even when standard output goes to a file; the file gets none of it.
TEST(CliSweep, ProgressBarWhenStderrIsATerminal) {
  ASSERT_EQ(std::system("command -v script >/dev/null"), 0) << "util-linux 'script' is missing";
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const fs::path out = dir / "out.csv", tty = dir / "tty.txt";
  const std::string inner = std::string("'") + MOESIM_BINARY + "' sweep " + kScenario +
                            " --grid run.tokens_per_step=228,456 --set run.steps=2 > '" + out.string() + "'";
  const std::string cmd = "script -qec \"" + inner + "\" /dev/null > '" + tty.string() + "' 2>&1 </dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string shown = read_text(tty);
  EXPECT_NE(shown.find("2/2 points"), std::string::npos) << shown;
  EXPECT_NE(shown.find("points/s"), std::string::npos) << shown;
  EXPECT_NE(shown.find("s left"), std::string::npos) << shown;
  const std::string csv = read_text(out);
  EXPECT_EQ(lines_of(csv).size(), 2u + 4u);
  EXPECT_EQ(csv.find("points/s"), std::string::npos);
  fs::remove_all(dir);
}

#ifdef MOESIM_MPIEXEC
// mpirun -n 2: the points are split over the ranks (rank 0 says how) and the one file is the single
// process's, byte for byte, on a file and on standard output.
TEST(CliSweep, TwoMpiRanksWriteTheSingleProcessFile) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const std::string one = (dir / "one.csv").string(), two = (dir / "two.csv").string();
  ASSERT_EQ(run_moesim("sweep " + kScenario + kGrid + " -o '" + one + "'").exit_code, 0);
  const std::string mpirun = std::string(MOESIM_MPIEXEC) + " --allow-run-as-root --oversubscribe -n 2 '" + MOESIM_BINARY + "'";
  const std::string cmd = mpirun + " sweep " + kScenario + kGrid + " --threads 1 -o '" + two + "' 2>'" +
                          (dir / "err").string() + "' </dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir / "err");
  EXPECT_EQ(read_text(two), read_text(one));
  EXPECT_NE(read_text(dir / "err").find("moesim: sweep: 4 points over 2 MPI ranks (2, 2)"), std::string::npos)
      << read_text(dir / "err");
  const std::string to_stdout = mpirun + " sweep " + kScenario + kGrid + " -f jsonl --threads 1 >'" +
                                (dir / "two.jsonl").string() + "' 2>/dev/null </dev/null";
  ASSERT_EQ(std::system(to_stdout.c_str()), 0);
  EXPECT_EQ(read_text(dir / "two.jsonl"), run_moesim("sweep " + kScenario + kGrid + " -f jsonl").out);
  fs::remove_all(dir);
}
#else
// Built without MPI, a launch as 2 ranks (mpirun sets OMPI_COMM_WORLD_SIZE) is refused: every rank would
// run the whole sweep into the same file.
TEST(CliSweep, WithoutMpiALaunchAsSeveralRanksIsRefused) {
  const auto dir = moesim::testing::make_temp_dir("sweep");
  const std::string cmd = "OMPI_COMM_WORLD_SIZE=2 '" + std::string(MOESIM_BINARY) + "' sweep " + kScenario + kGrid +
                          " >'" + (dir / "out").string() + "' 2>'" + (dir / "err").string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  const std::string err = read_text(dir / "err");
  EXPECT_NE(err.find("mpirun: this moesim was built without MPI, so every rank would run the whole sweep"), std::string::npos)
      << err;
  EXPECT_EQ(read_text(dir / "out"), "");
  fs::remove_all(dir);
}
#endif

}  // namespace
