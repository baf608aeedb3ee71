// The table reporter: for people. One column per setup (mean, and p99 over batches), then the
// ratio of each setup's mean to the first setup's.
#include "report/labels.hpp"
#include "report/reporters.hpp"
#include "report/throughput_report.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace moesim {

namespace {

std::string fmt(double v, bool percent) {
  char buf[32];
  if (percent)
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * v);
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

void write_header(const ScenarioResult& r, std::ostream& os) {
  const ScenarioSpec& s = r.scenario;
  const ModelSpec& m = s.model;
  os << "scenario  " << s.name;
  if (!s.description.empty()) os << ": " << s.description;
  os << "\nmodel     " << m.name << ": " << m.num_experts << " routed experts, top-" << m.top_k;
  if (m.num_shared_experts > 0) os << ", " << m.num_shared_experts << " shared";
  os << ", " << s.simulated_layers() << " MoE layers simulated\n";
  os << "cluster   " << s.cluster.devices << " devices, " << s.cluster.devices_per_node << " per node ("
     << s.cluster.nodes() << (s.cluster.nodes() == 1 ? " node" : " nodes") << ")\n";
  os << "run       " << s.run.steps << " steps x " << s.run.tokens_per_step << " tokens, seed " << s.run.seed;
  if (s.run.measure_from > 0) os << "; figures over steps " << s.run.measure_from << ".." << s.run.steps - 1;
  os << "\n";
}

std::string describe(const SetupSpec& s) {
  std::string d = s.router.name + " k=" + std::to_string(s.router.k);
  if (s.router.groups > 1) d += " g=" + std::to_string(s.router.groups);
  d += ", " + s.placement.name;
  if (s.capacity.factor > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", cf=%.2f", s.capacity.factor);
    d += buf;
  }
  return d;
}

class TableReporter : public Reporter {
 public:
  void write(const std::vector<ScenarioResult>& results, const ReportOptions&, std::ostream& os) const override {
    for (const auto& r : results) {
      write_header(r, os);
      os << "\n";
    }
    const auto refs = flatten(results);
    const size_t label_w = 32, ratio_w = 12;
    size_t col_w = 22;  // wide enough for "mean      p99" and every setup's label and description
    for (const auto& ref : refs) col_w = std::max({col_w, ref.label.size() + 2, describe(ref.setup->spec).size() + 2});
    os << pad("", label_w);
    for (const auto& ref : refs) os << pad(ref.label, col_w);
    for (size_t i = 1; i < refs.size(); ++i) os << pad(refs[i].label + "/" + refs[0].label, ratio_w);
    os << "\n" << pad("", label_w);
    for (const auto& ref : refs) os << pad(describe(ref.setup->spec), col_w);
    os << "\n" << pad("metric (per batch and layer)", label_w);
    for (size_t i = 0; i < refs.size(); ++i) os << pad("mean      p99", col_w);
    for (size_t i = 1; i < refs.size(); ++i) os << pad("mean ratio", ratio_w);
    os << "\n";
    for (int mi = 0; mi < kNumMetrics; ++mi) {
      const Metric m = static_cast<Metric>(mi);
      const MetricLabel& ml = metric_label(m);
      os << pad(ml.label, label_w);
      for (const auto& ref : refs) {
        const Distribution& d = ref.setup->overall[mi];
        os << pad(pad(fmt(d.mean, ml.percent), 10) + fmt(d.p99, ml.percent), col_w);
      }
      const double base = refs[0].setup->overall[mi].mean;
      for (size_t i = 1; i < refs.size(); ++i) {
        const double v = refs[i].setup->overall[mi].mean;
        os << pad(base == 0.0 ? (v == 0.0 ? "=" : "n/a") : fmt(v / base, false), ratio_w);
      }
      os << "\n";
    }
    if (refs[0].setup->throughput.enabled) write_throughput_table(refs, os);
    os << "\nIS = (max - min device load) / tokens per batch (Pangu Pro MoE, Eq. 3); device load = token-expert\n"
          "assignments a device serves. p99 is over every (step, layer) batch.\n";
  }
};

}  // namespace

std::unique_ptr<Reporter> make_table_reporter() { return std::make_unique<TableReporter>(); }

}  // namespace moesim
