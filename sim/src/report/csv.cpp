// The CSV reporter: one row per setup, or per (setup, layer) with --per-layer.
// Columns: scenario, setup, router, placement, layer ("all" or the index), then
// <metric>_mean, <metric>_p50, <metric>_p99, <metric>_max for every metric.
// With --per-step instead: one row per (setup, step): scenario, setup, router, placement, step, then
// <metric> for every metric (that step's value, mean over the MoE layers).
#include "moesim/report.hpp"
#include "report/labels.hpp"
#include "report/reporters.hpp"
#include "report/throughput_report.hpp"

#include <cstdio>

namespace moesim {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void write_row(std::ostream& os, const ScenarioResult& sc, const SetupResult& st, const std::string& layer,
               const std::array<Distribution, kNumMetrics>& ms) {
  os << csv_field(sc.scenario.name) << ',' << csv_field(st.spec.name) << ',' << csv_field(st.spec.router.name) << ','
     << csv_field(st.spec.placement.name) << ',' << layer;
  for (const auto& d : ms) os << ',' << num(d.mean) << ',' << num(d.p50) << ',' << num(d.p99) << ',' << num(d.max);
  // Throughput columns (whole-step figures: the same on every layer row).
  if (st.throughput.enabled)
    for (const auto& [k, v] : throughput_figures(st.throughput, sc.scenario.deployment.phase))
      if (!phase_alias(k)) os << ',' << num(v);
  os << '\n';
}

// The time series: JSON's per_step as rows.
void write_per_step(const std::vector<ScenarioResult>& results, std::ostream& os) {
  os << "scenario,setup,router,placement,step";
  for (int m = 0; m < kNumMetrics; ++m) os << ',' << metric_name(static_cast<Metric>(m));
  os << '\n';
  for (const auto& sc : results)
    for (const auto& st : sc.setups)
      for (size_t t = 0; t < st.per_step.size(); ++t) {
        os << csv_field(sc.scenario.name) << ',' << csv_field(st.spec.name) << ',' << csv_field(st.spec.router.name)
           << ',' << csv_field(st.spec.placement.name) << ',' << t;
        for (double v : st.per_step[t]) os << ',' << num(v);
        os << '\n';
      }
}

class CsvReporter : public Reporter {
 public:
  void write(const std::vector<ScenarioResult>& results, const ReportOptions& opt, std::ostream& os) const override {
    if (opt.per_step) return write_per_step(results, os);
    os << "scenario,setup,router,placement,layer";
    for (int m = 0; m < kNumMetrics; ++m) {
      const std::string n(metric_name(static_cast<Metric>(m)));
      os << ',' << n << "_mean," << n << "_p50," << n << "_p99," << n << "_max";
    }
    const bool throughput = !results.empty() && !results[0].setups.empty() && results[0].setups[0].throughput.enabled;
    if (throughput)
      for (const auto& [k, v] : throughput_figures(ThroughputResult{}, Phase::decode))
        if (!phase_alias(k)) os << ',' << k;
    os << '\n';
    for (const auto& sc : results)
      for (const auto& st : sc.setups) {
        if (!opt.per_layer) {
          write_row(os, sc, st, "all", st.overall);
          continue;
        }
        for (size_t l = 0; l < st.per_layer.size(); ++l) write_row(os, sc, st, std::to_string(l), st.per_layer[l]);
      }
  }
};

}  // namespace

std::unique_ptr<Reporter> make_csv_reporter() { return std::make_unique<CsvReporter>(); }

}  // namespace moesim
