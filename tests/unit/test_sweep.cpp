// Sweep grids (plain and zipped axes), the fingerprint, reading rows back, and the report's series.
#include "moesim/error.hpp"
#include "moesim/sweep.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_grid_axis(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(SweepGrid, PlainAndZippedAxes) {
  const GridAxis a = parse_grid_axis("placement.device_of_expert=[0,1],[1,0]");
  EXPECT_EQ(a.keys, std::vector<std::string>{"placement.device_of_expert"});
  EXPECT_EQ(a.values, (std::vector<std::vector<std::string>>{{"[0,1]"}, {"[1,0]"}}));
  const GridAxis z = parse_grid_axis("cluster.devices, deployment.attention.dp=[8, 2],[16,4]");
  EXPECT_EQ(z.keys, (std::vector<std::string>{"cluster.devices", "deployment.attention.dp"}));
  EXPECT_EQ(z.values, (std::vector<std::vector<std::string>>{{"8", "2"}, {"16", "4"}}));
  // A tuple entry may itself be a list.
  EXPECT_EQ(parse_grid_axis("a,b=[[0,1],2]").values, (std::vector<std::vector<std::string>>{{"[0,1]", "2"}}));
  EXPECT_EQ(error_of("a,b=8,16"), "--grid: a,b: a grid over 2 keys takes value tuples [v1,v2],... (value 1 is '8') (got 'a,b=8,16')");
  EXPECT_EQ(error_of("a,b=[1,2,3]"), "--grid: a,b: value 1 '[1,2,3]' has 3 entries; each tuple needs 2, one per key (got 'a,b=[1,2,3]')");
  EXPECT_EQ(error_of("a,=1"), "--grid: a,: empty key in the list of keys (got 'a,=1')");
  EXPECT_EQ(error_of("run.steps=1,,2"), "--grid: run.steps: empty value in the list (got 'run.steps=1,,2')");
}

// The last axis varies fastest; a zipped axis contributes all its keys to each point.
TEST(SweepGrid, PointsInOrder) {
  const auto pts = grid_points({parse_grid_axis("x=1,2"), parse_grid_axis("a,b=[3,4],[5,6]")});
  ASSERT_EQ(pts.size(), 4u);
  EXPECT_EQ(pts[0], (std::vector<std::string>{"x=1", "a=3", "b=4"}));
  EXPECT_EQ(pts[1], (std::vector<std::string>{"x=1", "a=5", "b=6"}));
  EXPECT_EQ(pts[3], (std::vector<std::string>{"x=2", "a=5", "b=6"}));
}

// FNV-1a 64 of "" is the offset basis and of "a" the published test vector 0xaf63dc4c8601ec8c.
TEST(SweepFingerprint, HashAndMismatch) {
  EXPECT_EQ(fnv1a64(""), 14695981039346656037ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  const SweepFingerprint f{"s.yaml", 42, {parse_grid_axis("x=1,2")}, {"run.steps=2"}};
  const std::string j = fingerprint_json(f);
  EXPECT_EQ(j, "{\"moesim_sweep\":1,\"scenario\":\"s.yaml\",\"scenario_fnv1a64\":\"000000000000002a\",\"grid\":[{\"keys\":"
               "[\"x\"],\"values\":[[\"1\"],[\"2\"]]}],\"set\":[\"run.steps=2\"]}");
  EXPECT_TRUE(fingerprint_mismatch(f, j).empty());
  SweepFingerprint moved = f;
  moved.scenario = "elsewhere/s.yaml";  // the same bytes under another path: the same sweep
  EXPECT_TRUE(fingerprint_mismatch(moved, j).empty());
  SweepFingerprint other = f;
  other.scenario_fnv1a64 = 43;
  other.overrides = {};
  EXPECT_EQ(fingerprint_mismatch(other, j), (std::vector<std::string>{"scenario file contents", "--set"}));
  other = f;
  other.grid = {parse_grid_axis("x=1,3")};
  EXPECT_EQ(fingerprint_mismatch(other, j), std::vector<std::string>{"--grid"});
  EXPECT_EQ(fingerprint_mismatch(f, "not json"), std::vector<std::string>{"fingerprint (unreadable)"});
}

TEST(SweepRows, CsvAndJsonLinesReadBack) {
  EXPECT_EQ(split_csv_line("1,\"a,b\",\"say \"\"hi\"\"\","), (std::vector<std::string>{"1", "a,b", "say \"hi\"", ""}));
  const std::vector<std::string> header = {"point", "run.tokens_per_step", "setup", "tokens_per_s", "error"};
  const SweepRow c = parse_sweep_row("3,228,top8,5000.5,", true, header);
  EXPECT_EQ(c.point, 3);
  EXPECT_EQ(c.grid.at("run.tokens_per_step"), "228");
  EXPECT_EQ(c.setup, "top8");
  EXPECT_DOUBLE_EQ(c.figures.at("tokens_per_s"), 5000.5);
  EXPECT_EQ(c.error, "");
  const SweepRow e = parse_sweep_row("4,99,,,\"f.yaml: run.tokens_per_step: too big, really\"", true, header);
  EXPECT_EQ(e.point, 4);
  EXPECT_TRUE(e.figures.empty());
  EXPECT_EQ(e.error, "f.yaml: run.tokens_per_step: too big, really");
  EXPECT_EQ(parse_sweep_row("# {\"moesim_sweep\":1}", true, header).point, -1);
  EXPECT_EQ(parse_sweep_row("point,run.tokens_per_step,setup,tokens_per_s,error", true, header).point, -1);
  EXPECT_EQ(parse_sweep_row("3,228,top8", true, header).point, -1) << "a cut line";
  const SweepRow j = parse_sweep_row(R"({"point":2,"grid":{"x":"1"},"setup":"moge","figures":{"tokens_per_s":7.5}})", false, {});
  EXPECT_EQ(j.point, 2);
  EXPECT_EQ(j.grid.at("x"), "1");
  EXPECT_DOUBLE_EQ(j.figures.at("tokens_per_s"), 7.5);
  EXPECT_EQ(parse_sweep_row(R"({"sweep":{"moesim_sweep":1}})", false, {}).point, -1);
  EXPECT_EQ(parse_sweep_row(R"({"point":2,"grid":)", false, {}).point, -1);
}

SweepRow row(long point, const std::string& batch, const std::string& sigma, const std::string& setup, double tps,
             double per_device, double tpot) {
  SweepRow r;
  r.point = point;
  r.grid = {{"run.tokens_per_step", batch}, {"workload.lognormal_sigma", sigma}};
  r.setup = setup;
  r.figures = {{"tokens_per_step", std::stod(batch)}, {"tokens_per_s", tps}, {"tokens_per_s_per_device", per_device},
               {"step_time_p99_s", tpot * 1.01}, {"tpot_s", tpot}, {"ttft_s", 0}};
  return r;
}

// Two batches x one sigma x two setups. Batch lines: one per setup and sigma, named after the other grid
// values. Pareto (per hardware "h"): top8 at (40 ms, 100/dev), (80 ms, 150/dev); moge at (40 ms, 90/dev)
// is dominated by top8's first, (70 ms, 160/dev) dominates top8's second.
TEST(SweepReport, SeriesFromRows) {
  SweepRow failed;
  failed.point = 4;
  failed.error = "boom";
  const std::vector<SweepRow> rows = {row(0, "228", "0.3", "top8", 800, 100, 0.040), row(0, "228", "0.3", "moge", 720, 90, 0.040),
                                      row(1, "456", "0.3", "top8", 1200, 150, 0.080), row(1, "456", "0.3", "moge", 1280, 160, 0.070),
                                      failed};
  const auto grid = {parse_grid_axis("run.tokens_per_step=228,456"), parse_grid_axis("workload.lognormal_sigma=0.3")};
  const HtmlExtras e = sweep_report_extras(rows, grid, "s.yaml", "h");
  ASSERT_EQ(e.batch_series.size(), 4u);
  EXPECT_EQ(e.batch_series[0].setup, "top8, lognormal_sigma=0.3");
  EXPECT_EQ(e.batch_series[0].batch, 228);
  EXPECT_EQ(e.batch_series[0].tokens_per_s, 800);
  EXPECT_NEAR(e.batch_series[0].step_time_p99, 0.0404, 1e-15);
  ASSERT_EQ(e.pareto.size(), 4u);
  EXPECT_EQ(e.pareto[0].devices, 8);  // 800 tokens/s over 100 per device
  EXPECT_EQ(e.pareto[0].hardware, "h");
  std::vector<bool> on;
  for (const auto& p : e.pareto) on.push_back(p.on_frontier);
  EXPECT_EQ(on, (std::vector<bool>{true, false, false, true}));
  EXPECT_NE(e.notes[0].find("3 points, 1 failed"), std::string::npos) << e.notes[0];
  // Without run.tokens_per_step on the grid there is no batch series, and the page says why.
  const HtmlExtras flat = sweep_report_extras(rows, {parse_grid_axis("workload.lognormal_sigma=0.3")}, "s.yaml", "h");
  EXPECT_TRUE(flat.batch_series.empty());
  EXPECT_EQ(flat.batch_missing, "Not drawn: the grid does not vary run.tokens_per_step.");
}

}  // namespace
}  // namespace moesim
