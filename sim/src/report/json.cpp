// The JSON reporter: one document carrying schema_version, the fully resolved scenario and every
// figure. Keys are documented in configs/README.md ("Output").
#include "moesim/report.hpp"
#include "report/labels.hpp"
#include "report/reporters.hpp"
#include "report/scenario_json.hpp"
#include "report/throughput_report.hpp"

namespace moesim {

namespace {

using nlohmann::ordered_json;

ordered_json distribution_json(const Distribution& d) {
  return {{"mean", d.mean}, {"p50", d.p50}, {"p99", d.p99}, {"max", d.max}};
}

ordered_json metrics_json(const std::array<Distribution, kNumMetrics>& ms) {
  ordered_json j;
  for (int m = 0; m < kNumMetrics; ++m) j[std::string(metric_name(static_cast<Metric>(m)))] = distribution_json(ms[m]);
  return j;
}

// {p50: [...], p99: [...], max: [...]} over items (experts or devices); the means are the *_mean arrays.
ordered_json per_item_json(const std::vector<Distribution>& items) {
  ordered_json p50 = ordered_json::array(), p99 = ordered_json::array(), max = ordered_json::array();
  for (const auto& d : items) {
    p50.push_back(d.p50);
    p99.push_back(d.p99);
    max.push_back(d.max);
  }
  return {{"p50", p50}, {"p99", p99}, {"max", max}};
}

ordered_json setup_json(const SetupResult& r, const SetupResult& baseline, Phase phase) {
  ordered_json j = to_json(r.spec);
  if (r.throughput.enabled) j["throughput"] = throughput_json(r.throughput, phase);
  j["requested_assignments"] = r.requested;
  j["dropped_assignments"] = r.dropped;
  j["metrics"] = metrics_json(r.overall);
  ordered_json ratios;
  for (int m = 0; m < kNumMetrics; ++m)
    ratios[std::string(metric_name(static_cast<Metric>(m)))] = safe_ratio(r.overall[m].mean, baseline.overall[m].mean);
  j["mean_ratio_to_first"] = ratios;
  j["device_assignments_mean"] = r.device_assignments_mean;
  j["device_assignments"] = per_item_json(r.device_assignments);
  ordered_json layers = ordered_json::array();
  for (size_t l = 0; l < r.per_layer.size(); ++l) {
    ordered_json lj = {{"layer", l}};
    lj["metrics"] = metrics_json(r.per_layer[l]);
    lj["expert_tokens_mean"] = r.expert_tokens_mean[l];
    lj["expert_tokens"] = per_item_json(r.expert_tokens[l]);
    layers.push_back(lj);
  }
  j["per_layer"] = layers;
  ordered_json steps = ordered_json::array();
  for (size_t t = 0; t < r.per_step.size(); ++t) {
    ordered_json sj = {{"step", t}};
    for (int m = 0; m < kNumMetrics; ++m) sj[std::string(metric_name(static_cast<Metric>(m)))] = r.per_step[t][m];
    steps.push_back(sj);
  }
  j["per_step"] = steps;
  if (!r.rebalances.empty()) {  // in-simulation EPLB only: documents without it keep their keys
    j["migration_bytes"] = r.migration_bytes;
    ordered_json rb = ordered_json::array();
    for (const auto& e : r.rebalances)
      rb.push_back({{"step", e.step}, {"window_steps", e.window_steps}, {"moved_experts", e.moved_experts},
                    {"migration_bytes", e.migration_bytes}});
    j["rebalances"] = rb;
  }
  return j;
}

class JsonReporter : public Reporter {
 public:
  void write(const std::vector<ScenarioResult>& results, const ReportOptions&, std::ostream& os) const override {
    ordered_json doc;
    doc["schema_version"] = kJsonSchemaVersion;
    doc["generator"] = "moesim";
    ordered_json scenarios = ordered_json::array();
    const SetupResult* baseline = results.empty() || results[0].setups.empty() ? nullptr : &results[0].setups[0];
    for (const auto& sc : results) {
      ordered_json sj;
      sj["scenario"] = to_json(sc.scenario);
      ordered_json setups = ordered_json::array();
      for (const auto& st : sc.setups) setups.push_back(setup_json(st, *baseline, sc.scenario.deployment.phase));
      sj["results"] = setups;
      scenarios.push_back(sj);
    }
    doc["scenarios"] = scenarios;
    os << doc.dump(2) << "\n";
  }
};

}  // namespace

std::unique_ptr<Reporter> make_json_reporter() { return std::make_unique<JsonReporter>(); }

}  // namespace moesim
