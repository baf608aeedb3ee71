// moesim/report.hpp: reporters write results to an injected stream; the core never does I/O.
#pragma once

#include "moesim/registry.hpp"
#include "moesim/simulator.hpp"

#include <memory>
#include <ostream>
#include <string>

namespace moesim {

inline constexpr int kJsonSchemaVersion = 1;

struct ReportOptions {
  bool per_layer = false;  // CSV: one row per (setup, layer) instead of per setup
  bool per_step = false;   // CSV: one row per (setup, step), metrics averaged over the layers (wins over per_layer)
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  // One or more scenarios (compare passes several); setups are compared against the first one.
  virtual void write(const std::vector<ScenarioResult>& results, const ReportOptions& opt, std::ostream& os) const = 0;
};

using ReporterFactory = std::function<std::unique_ptr<Reporter>()>;
using ReporterRegistry = Registry<ReporterFactory>;
void register_builtin_reporters(ReporterRegistry& reg);  // table, json, csv

// One CSV field as the csv reporter and sweep files write it: as is, or in double quotes (quotes doubled)
// when it holds a comma, a quote or a newline. split_csv_line (moesim/sweep.hpp) undoes it.
std::string csv_field(const std::string& s);

}  // namespace moesim
