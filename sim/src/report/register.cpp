#include "report/reporters.hpp"

namespace moesim {

void register_builtin_reporters(ReporterRegistry& reg) {
  reg.add("table", "aligned text for people: one column per setup, ratios to the first", make_table_reporter);
  reg.add("json", "one document with schema_version, the resolved scenario and every figure", make_json_reporter);
  reg.add("csv", "one row per setup (per setup and layer with --per-layer)", make_csv_reporter);
}

}  // namespace moesim
