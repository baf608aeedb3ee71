#include "sweep_output.hpp"

#include "moesim/error.hpp"
#include "moesim/report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>

namespace moesim::cli {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string join_and(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return s;
}

}  // namespace

std::vector<std::string> SweepLayout::csv_header() const {
  std::vector<std::string> h = {"point"};
  h.insert(h.end(), keys.begin(), keys.end());
  h.push_back("setup");
  h.insert(h.end(), columns.begin(), columns.end());
  h.push_back("error");
  return h;
}

std::string SweepLayout::preamble() const {
  if (!csv) return "{\"sweep\":" + fingerprint + "}\n";
  std::string h = "# " + fingerprint + "\n";
  const auto cols = csv_header();
  for (size_t i = 0; i < cols.size(); ++i) h += (i ? "," : "") + csv_field(cols[i]);
  return h + "\n";
}

std::string SweepLayout::point_lines(size_t point, const std::vector<std::string>& values, const ScenarioResult* r,
                                     const std::string& error) const {
  std::ostringstream os;
  const auto emit = [&](const std::string& setup, const std::vector<std::pair<std::string, double>>& figs) {
    if (csv) {
      os << point;
      for (const auto& v : values) os << ',' << csv_field(v);
      os << ',' << csv_field(setup);
      std::map<std::string, double> by(figs.begin(), figs.end());
      for (const auto& c : columns) os << ',' << (by.count(c) ? num(by[c]) : "");
      os << ',' << csv_field(error) << '\n';
    } else {
      nlohmann::ordered_json j;
      j["point"] = point;
      j["grid"] = nlohmann::ordered_json::object();
      for (size_t i = 0; i < keys.size(); ++i) j["grid"][keys[i]] = values[i];
      j["setup"] = setup;
      for (const auto& [k, v] : figs) j["figures"][k] = v;
      if (!error.empty()) j["error"] = error;
      os << j.dump() << '\n';
    }
  };
  if (!r) emit("", {});
  else
    for (const auto& s : r->setups) emit(s.spec.name, flat_figures(*r, s));
  return os.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  return lines;
}

ResumeState read_resume_state(const std::string& path, const SweepLayout& layout, const SweepFingerprint& mine,
                              const std::function<size_t(size_t)>& setups_of) {
  const std::vector<std::string> lines = read_lines(path);
  // The first line ties the file to its sweep: CSV "# {...}", JSON lines {"sweep": {...}}.
  std::string theirs;
  if (!lines.empty()) {
    if (layout.csv && lines[0].rfind("# ", 0) == 0) theirs = lines[0].substr(2);
    const std::string open = "{\"sweep\":";
    if (!layout.csv && lines[0].rfind(open, 0) == 0 && lines[0].back() == '}')
      theirs = lines[0].substr(open.size(), lines[0].size() - open.size() - 1);
  }
  if (theirs.empty())
    throw Error(path, "--resume", path,
                "has no sweep fingerprint line (was it written by moesim sweep --format " +
                    std::string(layout.csv ? "csv" : "jsonl") + "?), so it cannot be shown to be this sweep; choose another --output");
  const auto diff = fingerprint_mismatch(mine, theirs);
  if (!diff.empty())
    throw Error(path, "--resume", path,
                "was written by a different sweep: its " + join_and(diff) + (diff.size() > 1 ? " differ" : " differs") +
                    " (the file's fingerprint: " + theirs +
                    "); resume with the same scenario, --grid and --set, or choose another --output");
  if (layout.csv) {
    const std::string header = layout.preamble().substr(layout.preamble().find('\n') + 1);
    if (lines.size() < 2 || lines[1] + "\n" != header)
      throw Error(path, "--resume", path, "its header does not match this sweep's grid and columns");
  }
  // A point counts as done only when all its lines made it (a kill can cut a point's block short).
  std::map<long, std::vector<const std::string*>> by_point;
  std::map<long, bool> failed;
  for (const auto& line : lines) {
    const SweepRow r = layout.row(line);
    if (r.point < 0) continue;
    by_point[r.point].push_back(&line);
    failed[r.point] = failed[r.point] || !r.error.empty();
  }
  ResumeState st;
  for (const auto& [p, ls] : by_point) {
    const bool complete = failed[p] ? ls.size() == 1 : ls.size() == setups_of(size_t(p));
    if (!complete) continue;
    st.done.insert(size_t(p));
    for (const auto* l : ls) st.lines.push_back(*l);
  }
  return st;
}

}  // namespace moesim::cli
