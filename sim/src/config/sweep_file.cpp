// Reading a sweep's own output back (for --resume and the --report of a sweep): its fingerprint line
// and its point lines, CSV or JSON lines. The writer is sim/cli/sweep_output.cpp.
#include "moesim/sweep.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace moesim {

std::vector<std::string> fingerprint_mismatch(const SweepFingerprint& mine, const std::string& theirs_json) {
  const nlohmann::json ours = nlohmann::json::parse(fingerprint_json(mine));
  nlohmann::json theirs;
  try {
    theirs = nlohmann::json::parse(theirs_json);
  } catch (const nlohmann::json::exception&) {
    return {"fingerprint (unreadable)"};
  }
  if (!theirs.is_object() || !theirs.contains("moesim_sweep")) return {"fingerprint (missing)"};
  std::vector<std::string> diff;
  if (theirs.value("scenario_fnv1a64", "") != ours["scenario_fnv1a64"]) diff.push_back("scenario file contents");
  if (!theirs.contains("grid") || theirs["grid"] != ours["grid"]) diff.push_back("--grid");
  if (!theirs.contains("set") || theirs["set"] != ours["set"]) diff.push_back("--set");
  return diff;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// CSV: point, the grid keys, setup, the figure columns, error (the header names them).
SweepRow csv_row(const std::string& line, const std::vector<std::string>& header) {
  SweepRow r;
  const auto f = split_csv_line(line);
  if (f.size() != header.size() || header.size() < 3 || !all_digits(f[0])) return r;
  const size_t setup_col = std::find(header.begin(), header.end(), "setup") - header.begin();
  if (setup_col >= header.size()) return r;
  for (size_t i = 1; i < setup_col; ++i) r.grid[header[i]] = f[i];
  r.setup = f[setup_col];
  for (size_t i = setup_col + 1; i + 1 < f.size(); ++i) {
    if (f[i].empty()) continue;
    try {
      r.figures[header[i]] = std::stod(f[i]);
    } catch (const std::exception&) {
      return SweepRow{};
    }
  }
  r.error = f.back();
  r.point = std::stol(f[0]);
  return r;
}

SweepRow json_row(const std::string& line) {
  SweepRow r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    return r;
  }
  if (!j.is_object() || !j.contains("point") || !j["point"].is_number_unsigned()) return r;
  if (j.contains("grid") && j["grid"].is_object())
    for (const auto& [k, v] : j["grid"].items()) r.grid[k] = v.is_string() ? v.get<std::string>() : v.dump();
  if (j.contains("setup") && j["setup"].is_string()) r.setup = j["setup"].get<std::string>();
  if (j.contains("figures") && j["figures"].is_object())
    for (const auto& [k, v] : j["figures"].items())
      if (v.is_number()) r.figures[k] = v.get<double>();
  if (j.contains("error") && j["error"].is_string()) r.error = j["error"].get<std::string>();
  r.point = j["point"].get<long>();
  return r;
}

}  // namespace

SweepRow parse_sweep_row(const std::string& line, bool csv, const std::vector<std::string>& csv_header) {
  return csv ? csv_row(line, csv_header) : json_row(line);
}

}  // namespace moesim
