// The HTML report: one self-contained page (inline CSS and SVG, no scripts, fonts or anything fetched).
// Charts come from html_*_charts.cpp; this file assembles the page, the summary table and the scenarios.
#include "moesim/html_report.hpp"
#include "report/html_charts.hpp"
#include "report/html_svg.hpp"
#include "report/labels.hpp"
#include "report/scenario_json.hpp"

#include <cstdio>

namespace moesim {

namespace {

using html::escape;
using html::printf_num;

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1160px; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
.meta { color: #555; margin: 2px 0; } .note { color: #666; font-style: italic; }
figure { margin: 12px 0 20px; overflow-x: auto; } figure svg { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; fill: #333; } .chart-title { font-size: 16px; font-weight: 600; }
.tick { font-size: 11px; fill: #555; } .axis-label { font-size: 13px; } .legend { font-size: 12px; }
.group-label { font-size: 12px; font-weight: 600; } .note-label { font-size: 11px; fill: #8b1a1a; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f4f4f4; }
.table-wrap { overflow-x: auto; } details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 12px; }
)";

std::string cell(const std::string& text, const char* tag = "td") {
  return std::string("<") + tag + ">" + escape(text) + "</" + tag + ">";
}

std::string scenario_header(const ScenarioResult& r) {
  const ScenarioSpec& s = r.scenario;
  std::string h = "<p class=\"meta\"><b>" + escape(s.name) + "</b>";
  if (!s.description.empty()) h += ": " + escape(s.description);
  h += "</p>\n<p class=\"meta\">model " + escape(s.model.name) + ": " + std::to_string(s.model.num_experts) +
       " routed experts, top-" + std::to_string(s.model.top_k) + ", " + std::to_string(s.simulated_layers()) +
       " MoE layers simulated; " + std::to_string(s.cluster.devices) + " devices, " +
       std::to_string(s.cluster.devices_per_node) + " per node; " + std::to_string(s.run.steps) + " steps x " +
       std::to_string(s.run.tokens_per_step) + " tokens, seed " + std::to_string(s.run.seed);
  if (s.deployment.enabled) h += "; " + escape(s.hardware.name) + ", " + to_string(s.deployment.phase);
  return h + "</p>\n";
}

std::string metric_rows(const std::vector<SetupRef>& refs) {
  std::string out;
  for (int mi = 0; mi < kNumMetrics; ++mi) {
    const MetricLabel& ml = metric_label(static_cast<Metric>(mi));
    const auto f = [&](double v) { return ml.percent ? printf_num("%.2f%%", 100 * v) : printf_num("%.3f", v); };
    out += "<tr>" + cell(ml.label);
    for (const auto& r : refs) out += cell(f(r.setup->overall[mi].mean)) + cell(f(r.setup->overall[mi].p99));
    const double base = refs[0].setup->overall[mi].mean;
    for (size_t i = 1; i < refs.size(); ++i) {
      const double v = refs[i].setup->overall[mi].mean;
      out += cell(base == 0.0 ? (v == 0.0 ? "=" : "n/a") : printf_num("%.3f", v / base));
    }
    out += "</tr>\n";
  }
  return out;
}

struct ThroughputRow {
  const char* label;
  const char* fmt;
  double (*get)(const ThroughputResult&);
};

std::string throughput_rows(const std::vector<SetupRef>& refs) {
  static const ThroughputRow rows[] = {
      {"step time, mean (ms)", "%.3f", [](const ThroughputResult& t) { return t.step_s.mean * 1e3; }},
      {"step time, p99 (ms)", "%.3f", [](const ThroughputResult& t) { return t.step_s.p99 * 1e3; }},
      {"TPOT / TTFT (ms)", "%.3f", [](const ThroughputResult& t) { return (t.tpot_s > 0 ? t.tpot_s : t.ttft_s) * 1e3; }},
      {"tokens/s, total", "%.0f", [](const ThroughputResult& t) { return t.tokens_per_s; }},
      {"tokens/s per device", "%.1f", [](const ThroughputResult& t) { return t.tokens_per_s_per_device; }},
      {"MFU", "%.1f%%", [](const ThroughputResult& t) { return t.mfu * 100; }},
      {"memory-bandwidth utilisation", "%.1f%%", [](const ThroughputResult& t) { return t.mbu * 100; }},
      {"lost to imbalance (ms)", "%.3f", [](const ThroughputResult& t) { return t.breakdown.imbalance_s * 1e3; }},
      {"USD per million tokens", "%.4f", [](const ThroughputResult& t) { return t.usd_per_million_tokens; }},
      {"memory per device (GiB)", "%.1f", [](const ThroughputResult& t) { return t.memory.total() / 1073741824.0; }},
  };
  std::string out;
  for (const ThroughputRow& row : rows) {
    out += "<tr>" + cell(row.label);
    for (const auto& r : refs) {
      const ThroughputResult& t = r.setup->throughput;
      out += "<td colspan=\"2\">" + (t.enabled ? printf_num(row.fmt, row.get(t)) : std::string("-")) + "</td>";
    }
    const ThroughputResult& base = refs[0].setup->throughput;
    for (size_t i = 1; i < refs.size(); ++i) {
      const ThroughputResult& t = refs[i].setup->throughput;
      const double a = row.get(base);
      out += cell(!base.enabled || !t.enabled || a == 0.0 ? "-" : printf_num("%.3f", row.get(t) / a));
    }
    out += "</tr>\n";
  }
  return out;
}

std::string summary_table(const std::vector<SetupRef>& refs) {
  std::string h = "<div class=\"table-wrap\"><table id=\"summary\">\n<thead><tr><th>metric (per batch and layer)</th>";
  for (const auto& r : refs) h += "<th colspan=\"2\">" + escape(r.label) + "</th>";
  for (size_t i = 1; i < refs.size(); ++i) h += cell(refs[i].label + " / " + refs[0].label, "th");
  h += "</tr>\n<tr><th></th>";
  for (size_t i = 0; i < refs.size(); ++i) h += "<th>mean</th><th>p99</th>";
  for (size_t i = 1; i < refs.size(); ++i) h += "<th>mean ratio</th>";
  h += "</tr></thead>\n<tbody>\n" + metric_rows(refs);
  bool any_throughput = false;
  for (const auto& r : refs) any_throughput = any_throughput || r.setup->throughput.enabled;
  if (any_throughput) {
    h += "<tr><th colspan=\"" + std::to_string(1 + 3 * refs.size() - 1) + "\">throughput (mean over steps)</th></tr>\n";
    h += throughput_rows(refs);
  }
  return h + "</tbody></table></div>\n<p class=\"note\">IS = (max - min device load) / tokens per batch (Pangu Pro "
             "MoE, Eq. 3); device load = token-expert assignments a device serves. p99 is over every (step, layer) "
             "batch.</p>\n";
}

std::string figure(const std::string& svg, const std::string& caption) {
  return "<figure>\n" + svg + "<figcaption class=\"note\">" + escape(caption) + "</figcaption>\n</figure>\n";
}

std::string run_charts(const std::vector<SetupRef>& refs) {
  std::string h = "<h2>Load per device</h2>\n" +
                  figure(html::device_load_chart(refs),
                         "Token-expert assignments each device serves per batch, mean over steps and layers. Hover a "
                         "bar for its value.");
  h += "<h2>Expert load by layer</h2>\n" +
       figure(html::expert_heatmaps(refs), "Tokens routed to each logical expert at each simulated MoE layer per batch, "
                                           "mean over steps; one colour scale for every setup.");
  const std::string breakdown = html::breakdown_chart(refs);
  h += "<h2>Step-time breakdown</h2>\n";
  h += breakdown.empty() ? "<p class=\"note\" id=\"no-breakdown\">No deployment in the scenario: add a deployment "
                           "section (and cluster.hardware) to cost the step.</p>\n"
                         : figure(breakdown, "Mean step split into its parts (means over devices); all-to-all time "
                                             "hidden under compute is not drawn.");
  return h;
}

// Throughput against batch size and the Pareto frontier; a note instead of a chart without its series.
std::string extra_charts(const HtmlExtras& extras) {
  const std::string batch = html::batch_chart(extras.batch_series);
  std::string h = "<h2>Throughput against batch size</h2>\n";
  const std::string no_batch = extras.batch_missing.empty()
                                   ? "Not drawn: one run has one batch size. moesim sweep --grid run.tokens_per_step=... "
                                     "--report, or moesim plan --report, draws this chart."
                                   : extras.batch_missing;
  h += batch.empty() ? "<p class=\"note\" id=\"no-batch-throughput\">" + escape(no_batch) + "</p>\n"
                     : figure(batch, extras.batch_caption.empty() ? "One line per setup; batch = tokens per step."
                                                                  : extras.batch_caption);
  const std::string pareto = html::pareto_chart(extras.pareto);
  h += "<h2>Pareto frontier</h2>\n";
  const std::string no_pareto = extras.pareto_missing.empty()
                                    ? "Not drawn: one run is one point. moesim plan --report, or moesim sweep --report "
                                      "over a scenario with a deployment, draws this chart."
                                    : extras.pareto_missing;
  h += pareto.empty() ? "<p class=\"note\" id=\"no-pareto\">" + escape(no_pareto) + "</p>\n"
                      : figure(pareto, extras.pareto_caption.empty() ? "Each point is one candidate, coloured by hardware."
                                                                     : extras.pareto_caption);
  return h;
}

// The page text of a sweep or a plan: notes and an optional table.
std::string extras_text(const HtmlExtras& extras) {
  std::string h;
  for (const auto& n : extras.notes) h += "<p class=\"meta\">" + escape(n) + "</p>\n";
  if (extras.table.empty()) return h;
  h += "<h2>" + escape(extras.table_title) + "</h2>\n<div class=\"table-wrap\"><table id=\"extras-table\">\n<thead><tr>";
  for (const auto& c : extras.table[0]) h += cell(c, "th");
  h += "</tr></thead>\n<tbody>\n";
  for (size_t r = 1; r < extras.table.size(); ++r) {
    h += "<tr>";
    for (const auto& c : extras.table[r]) h += cell(c);
    h += "</tr>\n";
  }
  return h + "</tbody></table></div>\n";
}

std::string resolved_scenarios(const std::vector<ScenarioResult>& results) {
  std::string h = "<h2>Resolved scenario</h2>\n";
  for (const auto& r : results)
    h += "<details><summary>" + escape(r.scenario.name) + " (after presets, defaults and --set)</summary>\n<pre>" +
         escape(to_json(r.scenario).dump(2)) + "</pre></details>\n";
  return h;
}

}  // namespace

std::string render_html_report(const std::vector<ScenarioResult>& results, const HtmlExtras& extras) {
  const auto refs = flatten(results);
  std::string title = "moesim report";
  if (!results.empty()) title += ": " + results[0].scenario.name + (results.size() > 1 ? " and others" : "");
  else if (!extras.title.empty()) title += ": " + extras.title;
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                  "content=\"width=device-width, initial-scale=1\">\n<title>" + escape(title) + "</title>\n<style>" +
                  kStyle + "</style>\n</head>\n<body>\n<h1>" + escape(title) + "</h1>\n";
  for (const auto& r : results) h += scenario_header(r);
  h += extras_text(extras);
  if (!results.empty() && refs.empty()) return h + "<p class=\"note\">No setups.</p>\n</body>\n</html>\n";
  if (!refs.empty()) h += "<h2>Summary</h2>\n" + summary_table(refs) + run_charts(refs);
  h += extra_charts(extras);
  if (!results.empty()) h += resolved_scenarios(results);
  return h + "<p class=\"note\">Generated by moesim. Self-contained: nothing is fetched.</p>\n</body>\n</html>\n";
}

}  // namespace moesim
