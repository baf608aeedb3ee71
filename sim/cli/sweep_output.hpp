// moesim sweep's output file: the fingerprint line, the CSV header, one block of lines per point, and
// what an interrupted sweep left behind (for --resume).
#pragma once

#include "moesim/simulator.hpp"
#include "moesim/sweep.hpp"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace moesim::cli {

struct SweepLayout {
  bool csv = true;
  std::vector<std::string> keys;     // every grid key, in axis order (a zipped axis gives several)
  std::vector<std::string> columns;  // flat figure columns
  std::string fingerprint;           // fingerprint_json(...)

  // The lines before the first point: CSV "# <fingerprint>" and the header; JSON lines {"sweep": ...}.
  std::string preamble() const;
  std::vector<std::string> csv_header() const;
  // The lines one point contributes: one per setup, or one error line. values: one per key.
  std::string point_lines(size_t point, const std::vector<std::string>& values, const ScenarioResult* r,
                          const std::string& error) const;
  SweepRow row(const std::string& line) const { return parse_sweep_row(line, csv, csv_header()); }
};

// The complete lines of a file (a partial last line from a kill is dropped).
std::vector<std::string> read_lines(const std::string& path);

// What --resume keeps of an earlier run of the same sweep.
struct ResumeState {
  std::set<size_t> done;            // points whose every line made it
  std::vector<std::string> lines;   // their lines
};
// Checks that `path` was written by this sweep (its fingerprint and header) and collects the finished
// points. setups_of(point) = lines a successful point writes. Throws Error naming the file otherwise.
ResumeState read_resume_state(const std::string& path, const SweepLayout& layout, const SweepFingerprint& mine,
                              const std::function<size_t(size_t)>& setups_of);

}  // namespace moesim::cli
