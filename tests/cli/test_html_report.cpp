// --report FILE.html: the page is drawn by a real browser. Headless Chromium (Debian's `chromium`, installed
// by scripts/install-deps) loads a copy of the report with a small probe script appended; the probe counts,
// for every svg[data-chart], the shapes the browser laid out with a non-zero size and the svgs wider than
// the window, and writes them into attributes that --dump-dom prints. A screenshot must be a real PNG.
#include "support/process.hpp"

#include "moesim/config.hpp"
#include "moesim/html_report.hpp"
#include "moesim/registries.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

namespace fs = std::filesystem;
using moesim::testing::make_temp_dir;
using moesim::testing::read_text;
using moesim::testing::run_moesim;
using moesim::testing::source_path;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
const std::string kScenario = source_path("configs/scenarios/pangu-moge-vs-topk-910b.yaml");

// Appended to a copy of the report: shapes drawn with a non-zero box per chart, and svgs that overflow.
constexpr const char* kProbe = R"(<script>
const w = document.documentElement.clientWidth;
for (const svg of document.querySelectorAll('svg[data-chart]')) {
  let drawn = 0;
  for (const e of svg.querySelectorAll('rect, path, circle')) {
    const b = e.getBoundingClientRect();
    if (b.width > 0 || b.height > 0) ++drawn;
  }
  svg.setAttribute('data-drawn', drawn);
  const r = svg.getBoundingClientRect();
  svg.setAttribute('data-overflow', (r.left < 0 || r.right > w + 0.5 || r.width < 100) ? 1 : 0);
}
</script>)";

std::string chromium_command(const fs::path& dir, const std::string& action, const fs::path& page) {
  return "timeout 120 " + std::string(kChromium) +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
         " --disable-component-update --disable-sync --user-data-dir='" + (dir / "profile").string() + "' " + action +
         " 'file://" + page.string() + "' 2>'" + (dir / "chromium.err").string() + "'";
}

// The DOM after load, or "" (with the browser's stderr in err) when it failed.
std::string dump_dom(const fs::path& dir, const fs::path& page, std::string& err) {
  const fs::path out = dir / "dom.html";
  const int status = std::system((chromium_command(dir, "--dump-dom", page) + " >'" + out.string() + "'").c_str());
  err = read_text(dir / "chromium.err");
  return status == 0 ? read_text(out) : "";
}

// A copy of the page with the probe just before </body>.
fs::path probed_copy(const fs::path& page) {
  std::string text = read_text(page);
  const size_t at = text.rfind("</body>");
  text.insert(at == std::string::npos ? text.size() : at, kProbe);
  const fs::path copy = page.parent_path() / "probed.html";
  std::ofstream(copy, std::ios::binary) << text;
  return copy;
}

struct ChartDraw {
  int svgs = 0, drawn = 0, overflow = 0;
};

// Per data-chart name, from the probe's attributes in the dumped DOM.
std::map<std::string, ChartDraw> charts_in(const std::string& dom) {
  std::map<std::string, ChartDraw> out;
  const std::regex svg_tag(R"(<svg\b[^>]*>)");
  const std::regex attr(R"re(\b(data-chart|data-drawn|data-overflow)="([^"]*)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), svg_tag); it != std::sregex_iterator(); ++it) {
    const std::string tag = it->str();
    std::map<std::string, std::string> a;
    for (auto m = std::sregex_iterator(tag.begin(), tag.end(), attr); m != std::sregex_iterator(); ++m) a[(*m)[1]] = (*m)[2];
    if (!a.count("data-chart")) continue;
    ChartDraw& c = out[a["data-chart"]];
    ++c.svgs;
    c.drawn += a.count("data-drawn") ? std::stoi(a["data-drawn"]) : 0;
    c.overflow += a.count("data-overflow") ? std::stoi(a["data-overflow"]) : 0;
  }
  return out;
}

constexpr const char* kNoChromium =
    "/usr/bin/chromium is missing: the HTML report is checked in a real browser. Run scripts/install-deps (it "
    "installs Debian's chromium package).";

// Writes the report of the 910B scenario (deployment: step-time breakdown present) into dir.
fs::path write_run_report(const fs::path& dir) {
  const fs::path page = dir / "out.html";
  const auto r = run_moesim("run '" + kScenario + "' --steps 5 --report '" + page.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imbalance score"), std::string::npos) << "--report leaves the normal output alone";
  return page;
}

void expect_drawn(const std::map<std::string, ChartDraw>& charts, const std::string& name, int min_svgs, int min_drawn) {
  ASSERT_TRUE(charts.count(name)) << "no svg with data-chart=\"" << name << "\" in the browser's DOM";
  const ChartDraw& c = charts.at(name);
  EXPECT_GE(c.svgs, min_svgs) << name;
  EXPECT_GE(c.drawn, min_drawn) << name << ": too few shapes laid out with a non-zero size";
  EXPECT_EQ(c.overflow, 0) << name << ": wider than the window (or collapsed)";
}

TEST(HtmlReport, RunReportIsSelfContainedAndChromiumDrawsEveryChart) {
  ASSERT_TRUE(fs::exists(kChromium)) << kNoChromium;
  const fs::path dir = make_temp_dir("html");
  const fs::path page = write_run_report(dir);
  const std::string html = read_text(page);
  ASSERT_FALSE(html.empty());
  for (const char* fetch : {"<script", "<link", "<img", "<iframe", "@import", "url(", "src="})
    EXPECT_EQ(html.find(fetch), std::string::npos) << "the page must fetch nothing and run no script: " << fetch;
  std::string err;
  const std::string dom = dump_dom(dir, probed_copy(page), err);
  ASSERT_FALSE(dom.empty()) << "chromium --dump-dom failed:\n" << err;
  const auto charts = charts_in(dom);
  expect_drawn(charts, "device-load", 1, 2 * 8);         // 2 setups x 8 devices of bars
  expect_drawn(charts, "expert-heatmap", 2, 2 * 8 * 64);  // 8 layers x 64 experts per setup
  expect_drawn(charts, "step-breakdown", 1, 2 * 5);       // stacked parts of 2 setups
  EXPECT_NE(dom.find("id=\"no-batch-throughput\""), std::string::npos) << "a run has no batch series: a note says so";
  EXPECT_NE(dom.find("id=\"no-pareto\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"summary\""), std::string::npos);
  EXPECT_NE(dom.find("<details>"), std::string::npos) << "the resolved scenario, collapsed";
  fs::remove_all(dir);
}

TEST(HtmlReport, BatchAndParetoChartsDrawWhenTheirSeriesAreGiven) {
  ASSERT_TRUE(fs::exists(kChromium)) << kNoChromium;
  moesim::LoadOptions lo;
  lo.overrides = {"run.steps=3", "run.layers=2", "run.threads=1"};
  const auto spec = moesim::load_scenario(kScenario, lo, moesim::builtin_registries());
  const auto result = moesim::simulate(spec, moesim::builtin_registries());
  moesim::HtmlExtras extras;
  for (const char* setup : {"top8", "moge"})
    for (double batch : {128.0, 256.0, 512.0, 1024.0})
      extras.batch_series.push_back({setup, batch, batch * 10.0, 0.05 + batch * 1e-5});
  for (int i = 0; i < 12; ++i)
    extras.pareto.push_back({"c" + std::to_string(i), i % 2 ? "h100" : "ascend-910b", 8 << (i % 3),
                             500.0 + 100.0 * i, 0.02 + 0.004 * (i % 5), i % 3 == 0});
  const fs::path dir = make_temp_dir("html");
  const fs::path page = dir / "extras.html";
  std::ofstream(page, std::ios::binary) << moesim::render_html_report({result}, extras);
  std::string err;
  const std::string dom = dump_dom(dir, probed_copy(page), err);
  ASSERT_FALSE(dom.empty()) << "chromium --dump-dom failed:\n" << err;
  const auto charts = charts_in(dom);
  expect_drawn(charts, "device-load", 1, 16);
  expect_drawn(charts, "expert-heatmap", 2, 2 * 2 * 64);
  expect_drawn(charts, "step-breakdown", 1, 10);
  expect_drawn(charts, "batch-throughput", 1, 2 * 2 * (4 + 1));  // 2 panels x 2 setups x (4 points + 1 line)
  expect_drawn(charts, "pareto", 1, 12 + 1);                      // 12 candidates + the frontier line
  EXPECT_EQ(dom.find("id=\"no-batch-throughput\""), std::string::npos);
  EXPECT_EQ(dom.find("id=\"no-pareto\""), std::string::npos);
  fs::remove_all(dir);
}

// moesim plan --report: the batch search at each cheapest pool's layout and every candidate of the Pareto
// chart come from the planner's own results. 2 hardware x 2 device counts x TP1 x 3 batches = 12 candidates;
// the cheapest pool of each hardware has 3 batches at its layout.
TEST(HtmlReport, PlanReportDrawsItsBatchSearchAndFrontier) {
  ASSERT_TRUE(fs::exists(kChromium)) << kNoChromium;
  const fs::path dir = make_temp_dir("html");
  const fs::path page = dir / "plan.html";
  const auto r = run_moesim("plan '" + source_path("configs/validation/deepseek-v3-decode-h800.yaml") +
                            "' --target-tokens-per-s 100000 --max-tpot-ms 80 --hardware h800,h200 --devices 16,32 --tp 1 "
                            "--batch 16,32,64 --report '" + page.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_text(page);
  EXPECT_NE(html.find("<table id=\"extras-table\">"), std::string::npos) << "the cheapest setups";
  EXPECT_NE(html.find("p99 step time over 2 sampled steps"), std::string::npos) << "how the p99 was obtained";
  std::string err;
  const std::string dom = dump_dom(dir, probed_copy(page), err);
  ASSERT_FALSE(dom.empty()) << "chromium --dump-dom failed:\n" << err;
  const auto charts = charts_in(dom);
  expect_drawn(charts, "batch-throughput", 1, 2 * 2 * (3 + 1));  // 2 panels x 2 pools x (3 points + 1 line)
  expect_drawn(charts, "pareto", 1, 12 + 1);                     // 12 candidates + a frontier line
  EXPECT_EQ(dom.find("id=\"no-batch-throughput\""), std::string::npos);
  EXPECT_EQ(dom.find("id=\"no-pareto\""), std::string::npos);
  fs::remove_all(dir);
}

// moesim sweep --report: 3 batch sizes x 2 setups of the 910B scenario (a deployment, so throughput figures):
// each setup's line through its 3 points in both panels, and the 6 (point, setup) pairs on the Pareto chart.
TEST(HtmlReport, SweepReportDrawsBatchLinesAndFrontierFromItsPoints) {
  ASSERT_TRUE(fs::exists(kChromium)) << kNoChromium;
  const fs::path dir = make_temp_dir("html");
  const fs::path page = dir / "sweep.html";
  const auto r = run_moesim("sweep '" + kScenario + "' --grid run.tokens_per_step=228,456,912 --set run.steps=3 "
                            "--set run.layers=2 -o '" + (dir / "s.csv").string() + "' --report '" + page.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string err;
  const std::string dom = dump_dom(dir, probed_copy(page), err);
  ASSERT_FALSE(dom.empty()) << "chromium --dump-dom failed:\n" << err;
  const auto charts = charts_in(dom);
  expect_drawn(charts, "batch-throughput", 1, 2 * 2 * (3 + 1));  // 2 panels x 2 setups x (3 points + 1 line)
  expect_drawn(charts, "pareto", 1, 6);
  EXPECT_EQ(dom.find("id=\"no-batch-throughput\""), std::string::npos);
  EXPECT_NE(dom.find("Grid: run.tokens_per_step (3 values). 3 points, 0 failed"), std::string::npos);
  // A grid that does not vary the batch says so instead of drawing it.
  const fs::path flat = dir / "flat.html";
  ASSERT_EQ(run_moesim("sweep '" + kScenario + "' --grid workload.lognormal_sigma=0.3,1 --set run.steps=2 --set run.layers=2 "
                       "--report '" + flat.string() + "'").exit_code, 0);
  EXPECT_NE(read_text(flat).find("id=\"no-batch-throughput\">Not drawn: the grid does not vary run.tokens_per_step."),
            std::string::npos);
  fs::remove_all(dir);
}

uint32_t be32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

TEST(HtmlReport, ScreenshotIsAPlausiblePng) {
  ASSERT_TRUE(fs::exists(kChromium)) << kNoChromium;
  const fs::path dir = make_temp_dir("html");
  const fs::path page = write_run_report(dir), shot = dir / "shot.png";
  const int status = std::system(
      chromium_command(dir, "--screenshot='" + shot.string() + "' --window-size=1280,2000", page).append(" >/dev/null").c_str());
  ASSERT_EQ(status, 0) << read_text(dir / "chromium.err");
  const std::string png = read_text(shot);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(png, 16), 1280u);
  EXPECT_EQ(be32(png, 20), 2000u);
  // A blank 1280x2000 page compresses to a few kB; text, bars and a heatmap take far more.
  EXPECT_GT(png.size(), 60'000u) << "the screenshot looks empty";
  EXPECT_LT(png.size(), 20'000'000u);
  fs::remove_all(dir);
}

TEST(HtmlReport, CompareWritesOnePageForEveryScenario) {
  const fs::path dir = make_temp_dir("html");
  const fs::path page = dir / "cmp.html";
  const std::string other = source_path("configs/scenarios/pangu-moe-vs-moge.yaml");
  const auto r = run_moesim("compare '" + kScenario + "' '" + other + "' --steps 3 --set run.layers=2 --report '" +
                            page.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_text(page);
  EXPECT_NE(html.find("pangu-moge-vs-topk-910b/top8"), std::string::npos);
  EXPECT_NE(html.find("pangu-moe-vs-moge/moge"), std::string::npos);
  EXPECT_EQ(html.rfind("</html>\n"), html.size() - 8) << "written whole";
  fs::remove_all(dir);
}

}  // namespace
