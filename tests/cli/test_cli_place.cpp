// `moesim place --policy eplb`: DeepSeek EPLB on a weights file written to a temp dir. The expected
// phy2log is the EPLB README's published output (deepseek-ai/EPLB README.md); bad files exit 2 with
// "moesim: error: FILE: key: problem (got 'value')".
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using moesim::testing::make_temp_dir;
using moesim::testing::read_text;
using moesim::testing::run_moesim;

namespace {

class CliPlace : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("place"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes text to dir/name and returns the quoted path.
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return path(name);
  }
  std::string path(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }

  std::filesystem::path dir_;
};

const char* kReadmeWeights =
    R"({"weight": [[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
                   [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27]]})";

TEST_F(CliPlace, ReadmeExample) {
  const auto w = write("w.json", kReadmeWeights);
  const auto r = run_moesim("place --policy eplb --weights " + w + " --replicas 16 --groups 4 --nodes 2 --devices 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const std::vector<std::vector<int>> phy2log = {{5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
                                                 {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  EXPECT_EQ(j.at("phy2log").get<std::vector<std::vector<int>>>(), phy2log);
  // Counted from phy2log: experts 1, 4, 5, 10 (layer 0) and 1, 5, 6, 8 (layer 1) have two slots.
  const std::vector<std::vector<int>> logcnt = {{1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1},
                                                {1, 2, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1}};
  EXPECT_EQ(j.at("logcnt").get<std::vector<std::vector<int>>>(), logcnt);
  // log2phy: [2][12][2], -1 padded; layer 0's expert 7 has one slot, 7 (phy2log[0][3] == 7).
  const auto log2phy = j.at("log2phy").get<std::vector<std::vector<std::vector<int>>>>();
  ASSERT_EQ(log2phy.size(), 2u);
  ASSERT_EQ(log2phy[0].size(), 12u);
  EXPECT_EQ(log2phy[0][7], (std::vector<int>{3, -1}));
}

TEST_F(CliPlace, OutputFile) {
  const auto w = write("w.json", kReadmeWeights);
  const auto r = run_moesim("place -w " + w + " -r 16 -g 4 -n 2 -d 8 --output " + path("out.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto j = nlohmann::json::parse(read_text(dir_ / "out.json"));
  EXPECT_EQ(j.at("phy2log")[0][0], 5);
}

// Each bad file or parameter: exit 2 and one "moesim: error: ..." line naming the file, key and value.
TEST_F(CliPlace, BadInputs) {
  struct Case {
    std::string name, text, args, expect;
  };
  const std::vector<Case> cases = {
      {"syntax.json", R"({"weight": [[1, 2]])", "-r 2 -d 1", "syntax.json: byte "},
      {"missing.json", R"({"weights": [[1, 2]]})", "-r 2 -d 1", "missing.json: weight: missing"},
      {"ragged.json", R"({"weight": [[1, 2], [3]]})", "-r 2 -d 1",
       "ragged.json: weight[1]: rows must be equally long: expected 2 entries, as in row 0 (got '1 entries')"},
      {"negative.json", R"({"weight": [[1, -2]]})", "-r 2 -d 1",
       "negative.json: weight[0][1]: expected a finite, non-negative load (at most 3.4e38) (got '-2')"},
      {"nan.json", R"({"weight": [[1, "NaN"]]})", "-r 2 -d 1",
       "nan.json: weight[0][1]: expected a non-negative number (got '\"NaN\"')"},
      {"overflow.json", R"({"weight": [[1, 1e999]]})", "-r 2 -d 1", "overflow.json: not valid JSON: number overflow"},
      {"replicas.json", R"({"weight": [[1, 2, 3, 4]]})", "-r 6 -d 4",
       "--replicas: must be a multiple of --devices (4) (got '6')"},
  };
  for (const Case& c : cases) {
    const auto r = run_moesim("place --weights " + write(c.name, c.text) + " " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_EQ(r.err.rfind("moesim: error: ", 0), 0u) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": want '" << c.expect << "' in: " << r.err;
  }
}

}  // namespace
