// moesim/sweep.hpp: grids of scenario variants (the Cartesian product of --grid axes), the flat per-setup
// figures a sweep writes for each point, the fingerprint that ties an output file to its sweep, and the
// rows of a sweep file read back.
#pragma once

#include "moesim/html_report.hpp"
#include "moesim/simulator.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace moesim {

// One axis of the grid. A plain axis varies one key; a zipped axis varies several keys together, value
// tuple by value tuple (cluster.devices with the layout that goes with each device count).
struct GridAxis {
  std::vector<std::string> keys;                 // scenario key paths, as --set takes them
  std::vector<std::vector<std::string>> values;  // [axis point][key]: YAML scalars or flow values
};

// "key=v1,v2,v3": commas inside [] or {} do not split ("placement.device_of_expert=[0,1],[1,0]").
// "k1,k2=[a1,a2],[b1,b2]": a zipped axis; every value is a [..] tuple with one entry per key.
// Throws Error("--grid", key, text, ...) for a missing '=', an empty key or value, or a tuple of the
// wrong length.
GridAxis parse_grid_axis(const std::string& text);

// Every point of the product, the last axis varying fastest: point i -> its "key=value" overrides (one
// per key of every axis, in axis order).
std::vector<std::vector<std::string>> grid_points(const std::vector<GridAxis>& axes);

// One setup's figures, flattened: (column, value) in a fixed order. Load balance: each metric's mean and
// p99; with a deployment, every throughput figure as well.
std::vector<std::pair<std::string, double>> flat_figures(const ScenarioResult& r, const SetupResult& s);
std::vector<std::string> flat_columns(bool with_throughput);

// What identifies a sweep: the scenario (as named on the command line, and a hash of its bytes), the
// grid and the --set overrides. Written as the first line of the output; --resume refuses a file whose
// fingerprint differs.
struct SweepFingerprint {
  std::string scenario;           // the path as given
  uint64_t scenario_fnv1a64 = 0;  // FNV-1a (64-bit) of the scenario file's bytes
  std::vector<GridAxis> grid;
  std::vector<std::string> overrides;
};
uint64_t fnv1a64(const std::string& bytes);
// The fingerprint as one JSON object on one line (no newline): {"moesim_sweep":1,"scenario":...,
// "scenario_fnv1a64":"<16 hex digits>","grid":[{"keys":[..],"values":[[..],..]}],"set":[..]}.
std::string fingerprint_json(const SweepFingerprint& f);
// The parts of `mine` that the fingerprint line `theirs` (as fingerprint_json writes it) does not match:
// some of "scenario file contents", "--grid", "--set"; empty when it is the same sweep.
std::vector<std::string> fingerprint_mismatch(const SweepFingerprint& mine, const std::string& theirs_json);

// One line of a sweep file read back.
struct SweepRow {
  long point = -1;                          // -1: not a point line (the header, a fingerprint, garbage)
  std::map<std::string, std::string> grid;  // key -> value of this point
  std::string setup;
  std::map<std::string, double> figures;    // the flat figures (empty for a failed point)
  std::string error;                        // "" unless the point failed
};
// csv_header: the CSV header's column names (ignored for JSON lines). A line that does not parse as a
// point line of this layout gives point = -1.
SweepRow parse_sweep_row(const std::string& line, bool csv, const std::vector<std::string>& csv_header);
// The columns of a CSV line, with "" quoting undone (the inverse of the writer's quoting).
std::vector<std::string> split_csv_line(const std::string& line);

// The HTML report's series from a finished sweep's rows (every setup of every point that has throughput
// figures): throughput against batch size, one line per setup and combination of the other grid values,
// when the grid varies run.tokens_per_step; and the Pareto frontier of throughput per device against
// latency (TPOT at decode, TTFT at prefill), per hardware (the cluster.hardware grid value, else
// `hardware`). The page's title and notes say which sweep it is.
HtmlExtras sweep_report_extras(const std::vector<SweepRow>& rows, const std::vector<GridAxis>& grid,
                               const std::string& scenario, const std::string& hardware);

}  // namespace moesim
