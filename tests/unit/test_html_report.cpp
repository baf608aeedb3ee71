// The HTML report escapes every text that comes from a scenario file, and its SVG helpers behave.
#include "moesim/html_report.hpp"
#include "report/html_svg.hpp"

#include <gtest/gtest.h>

namespace {

using moesim::html::escape;
using moesim::html::nice_ticks;
using moesim::html::shorten;

const std::string kEvil = "<script>alert(1)</script>";
const std::string kEvilEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;";

// A small result by hand: 2 devices, 2 layers x 4 experts, a deployment, every name hostile.
moesim::ScenarioResult hostile_result() {
  moesim::ScenarioResult r;
  r.scenario.name = kEvil;
  r.scenario.description = "a \"quoted\" & 'single' <b>bold</b>";
  r.scenario.model.name = kEvil;
  r.scenario.hardware.name = kEvil;
  r.scenario.deployment.enabled = true;
  for (const std::string& name : {kEvil, std::string("plain")}) {
    moesim::SetupResult s;
    s.spec.name = name;
    s.spec.router.name = kEvil;
    s.device_assignments_mean = {3.0, 5.0};
    s.expert_tokens_mean = {{1, 2, 3, 4}, {4, 3, 2, 1}};
    s.throughput.enabled = true;
    s.throughput.step_s.mean = 0.01;
    s.throughput.breakdown.attention_s = 0.006;
    s.throughput.breakdown.routed_experts_s = 0.004;
    r.scenario.setups.push_back(s.spec);
    r.setups.push_back(s);
  }
  return r;
}

moesim::HtmlExtras hostile_extras() {
  moesim::HtmlExtras e;
  e.batch_series = {{kEvil, 64, 100, 0.01}, {kEvil, 128, 180, 0.012}};
  e.pareto = {{kEvil, kEvil, 8, 1000, 0.02, true}, {"b", kEvil, 16, 800, 0.03, false}};
  return e;
}

TEST(HtmlReport, TextFromTheScenarioIsEscapedEverywhere) {
  const std::string page = moesim::render_html_report({hostile_result()}, hostile_extras());
  EXPECT_EQ(page.find("<script"), std::string::npos) << "no script reaches the page, hostile or not";
  EXPECT_EQ(page.find("<b>bold"), std::string::npos);
  EXPECT_NE(page.find(kEvilEscaped), std::string::npos) << "the name is shown, as text";
  EXPECT_NE(page.find("a &quot;quoted&quot; &amp; &#39;single&#39; &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  // The resolved scenario (JSON in <pre>) is escaped too: its quotes become &quot;.
  EXPECT_NE(page.find("&quot;name&quot;: &quot;" + kEvilEscaped), std::string::npos);
}

TEST(HtmlReport, EveryChartHasAnIdAndIsDrawnFromTheResult) {
  const std::string page = moesim::render_html_report({hostile_result()}, hostile_extras());
  for (const char* chart : {"device-load", "expert-heatmap", "step-breakdown", "batch-throughput", "pareto"})
    EXPECT_NE(page.find(std::string("data-chart=\"") + chart + "\""), std::string::npos) << chart;
  EXPECT_NE(page.find("id=\"chart-expert-heatmap-1\""), std::string::npos) << "one heatmap per setup";
  const std::string bare = moesim::render_html_report({hostile_result()}, {});
  EXPECT_EQ(bare.find("data-chart=\"pareto\""), std::string::npos);
  EXPECT_NE(bare.find("id=\"no-pareto\""), std::string::npos) << "an omitted chart leaves a note";
  EXPECT_NE(bare.find("id=\"no-batch-throughput\""), std::string::npos);
}

// A sweep or a plan has no run results: the page holds the extras alone, every text escaped.
TEST(HtmlReport, APageWithoutResultsHoldsTheExtras) {
  moesim::HtmlExtras e = hostile_extras();
  e.title = kEvil;
  e.notes = {"note " + kEvil};
  e.table_title = "best";
  e.table = {{"hardware", "cost"}, {kEvil, "1.5"}};
  e.batch_caption = "caption " + kEvil;
  const std::string page = moesim::render_html_report({}, e);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_NE(page.find("<h1>moesim report: " + kEvilEscaped + "</h1>"), std::string::npos);
  EXPECT_NE(page.find("note " + kEvilEscaped), std::string::npos);
  EXPECT_NE(page.find("<table id=\"extras-table\">"), std::string::npos);
  EXPECT_NE(page.find("<td>" + kEvilEscaped + "</td><td>1.5</td>"), std::string::npos);
  EXPECT_NE(page.find("caption " + kEvilEscaped), std::string::npos);
  for (const char* chart : {"batch-throughput", "pareto"})
    EXPECT_NE(page.find(std::string("data-chart=\"") + chart + "\""), std::string::npos) << chart;
  EXPECT_EQ(page.find("id=\"summary\""), std::string::npos) << "no run, no run summary";
  EXPECT_EQ(page.find("Resolved scenario"), std::string::npos);
  EXPECT_EQ(page.rfind("</html>\n"), page.size() - 8);
}

// A chart left out says why, in the caller's words when it gives them.
TEST(HtmlReport, AMissingChartSaysWhy) {
  moesim::HtmlExtras e;
  e.batch_missing = "Not drawn: the grid does not vary run.tokens_per_step.";
  e.pareto_missing = "Not drawn: <none>";
  const std::string page = moesim::render_html_report({}, e);
  EXPECT_NE(page.find("id=\"no-batch-throughput\">Not drawn: the grid does not vary run.tokens_per_step.</p>"), std::string::npos);
  EXPECT_NE(page.find("id=\"no-pareto\">Not drawn: &lt;none&gt;</p>"), std::string::npos);
  // A run's page points at the commands that draw them.
  const std::string run = moesim::render_html_report({hostile_result()}, {});
  EXPECT_NE(run.find("moesim sweep --grid run.tokens_per_step=... --report"), std::string::npos);
  EXPECT_NE(run.find("moesim plan --report"), std::string::npos);
}

TEST(HtmlSvg, EscapeAndShorten) {
  EXPECT_EQ(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(shorten("abcdef", 6), "abcdef");
  EXPECT_EQ(shorten("abcdef", 4), "abc\u2026");
  // Cut on character boundaries: "ééé" is 6 bytes, 3 characters.
  EXPECT_EQ(shorten("\u00e9\u00e9\u00e9", 3), "\u00e9\u00e9\u00e9");
  EXPECT_EQ(shorten("\u00e9\u00e9\u00e9", 2), "\u00e9\u2026");
}

TEST(HtmlSvg, NiceTicksCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 912), (std::vector<double>{0, 200, 400, 600, 800, 1000}));
  const auto unit = nice_ticks(0, 1);
  ASSERT_EQ(unit.size(), 6u);
  EXPECT_NEAR(unit[1], 0.2, 1e-12);
  EXPECT_NEAR(unit.back(), 1.0, 1e-12);
  const auto t = nice_ticks(0, 93.5);
  EXPECT_EQ(t.front(), 0);
  EXPECT_GE(t.back(), 93.5);
}

}  // namespace
