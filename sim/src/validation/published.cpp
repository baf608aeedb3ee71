#include "moesim/validation.hpp"

#include "moesim/config.hpp"
#include "moesim/simulator.hpp"
#include "report/throughput_report.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

namespace moesim {

namespace {

struct CaseResult {
  ScenarioSpec spec;
  std::map<std::string, double> figures;  // throughput figures of the first setup
};

double figure(const CaseResult& c, const std::string& metric, const std::string& key) {
  const auto it = c.figures.find(metric);
  if (it == c.figures.end()) {
    std::string valid;
    for (const auto& [k, _] : c.figures) valid += (valid.empty() ? "" : ", ") + k;
    throw Error(c.spec.file, key, metric, "not a throughput figure of this case; valid: " + valid);
  }
  return it->second;
}

const PublishedFigure* published_of(const CaseResult& c, const std::string& metric) {
  for (const auto& p : c.spec.published)
    if (p.metric == metric) return &p;
  return nullptr;
}

}  // namespace

std::vector<ValidationRow> validate_published(const std::vector<std::string>& files, const Registries& reg) {
  std::map<std::string, CaseResult> cases;
  std::vector<std::string> order;
  for (const auto& f : files) {
    CaseResult c{load_scenario(f, {}, reg), {}};
    if (!c.spec.deployment.enabled) throw Error(f, "deployment", "", "a validation case needs a deployment");
    const ScenarioResult r = simulate(c.spec, reg);
    for (const auto& [k, v] : throughput_figures(r.setups.front().throughput, c.spec.deployment.phase)) c.figures[k] = v;
    order.push_back(c.spec.name);
    cases.emplace(c.spec.name, std::move(c));
  }
  std::vector<ValidationRow> rows;
  for (const auto& name : order) {
    const CaseResult& c = cases.at(name);
    for (size_t i = 0; i < c.spec.published.size(); ++i) {
      const PublishedFigure& p = c.spec.published[i];
      const std::string key = "published[" + std::to_string(i) + "]";
      ValidationRow row{name, p.metric, figure(c, p.metric, key + ".metric"), p.value, 0, p.tolerance, p.source, p.role,
                        p.known_miss, p.miss_error, p.miss_reason};
      if (!p.ratio_of.empty()) {
        const auto other = cases.find(p.ratio_of);
        if (other == cases.end()) throw Error(c.spec.file, key + ".ratio_of", p.ratio_of, "no such validation case in this run");
        const PublishedFigure* op = published_of(other->second, p.metric);
        if (!op) throw Error(c.spec.file, key + ".ratio_of", p.ratio_of, "that case publishes no " + p.metric);
        row.metric = p.metric + " ratio " + p.ratio_of + "/" + name;
        row.predicted = figure(other->second, p.metric, key + ".metric") / row.predicted;
        row.published = op->value / p.value;
      }
      row.error = (row.predicted - row.published) / row.published;
      rows.push_back(row);
    }
  }
  return rows;
}

std::vector<std::string> published_cases(const std::vector<std::string>& dirs) {
  namespace fs = std::filesystem;
  for (const auto& d : dirs) {
    const fs::path folder = fs::path(d) / "validation";
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(folder))
      if (e.path().extension() == ".yaml") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
  }
  return {};
}

}  // namespace moesim
