// moesim sweep. Points run in parallel (one thread each, so each point's result is what `moesim run`
// gives); every finished point is appended to the output at once and flushed, so a killed sweep loses
// no finished point, and --resume skips the points already in the file. When the sweep completes the
// file is rewritten in point order, so the same sweep always leaves the same bytes.
#include "sweep.hpp"

#include "commands.hpp"
#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/parallel.hpp"
#include "moesim/sweep.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace moesim::cli {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct Layout {
  std::vector<GridAxis> axes;
  std::vector<std::string> columns;  // flat figure columns
  bool csv = true;
  std::string header() const {
    if (!csv) return "";
    std::string h = "point";
    for (const auto& a : axes) h += "," + csv_field(a.key);
    h += ",setup";
    for (const auto& c : columns) h += "," + c;
    return h + ",error\n";
  }
};

// The lines one point contributes: one per setup, or one error line.
std::string point_lines(const Layout& L, size_t point, const std::vector<std::string>& values,
                        const ScenarioResult* r, const std::string& error) {
  std::ostringstream os;
  const auto emit = [&](const std::string& setup, const std::vector<std::pair<std::string, double>>& figs) {
    if (L.csv) {
      os << point;
      for (const auto& v : values) os << ',' << csv_field(v);
      os << ',' << csv_field(setup);
      std::map<std::string, double> by(figs.begin(), figs.end());
      for (const auto& c : L.columns) os << ',' << (by.count(c) ? num(by[c]) : "");
      os << ',' << csv_field(error) << '\n';
    } else {
      nlohmann::ordered_json j;
      j["point"] = point;
      for (size_t i = 0; i < L.axes.size(); ++i) j["grid"][L.axes[i].key] = values[i];
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

// Point id of a complete output line, or -1 for the header / anything else.
long line_point(const std::string& line, bool csv) {
  const std::string digits = csv ? line.substr(0, line.find(',')) : line.substr(0, line.find(','));
  const std::string d = csv ? digits : (digits.rfind("{\"point\":", 0) == 0 ? digits.substr(9) : "");
  if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(d);
}

// Whether a line records a failed point (CSV: a non-empty last field; JSON lines: an "error" key).
bool has_error(const std::string& line, bool csv) {
  return csv ? !line.empty() && line.back() != ',' : line.find("\"error\":") != std::string::npos;
}

// Reads what an earlier run left: the complete lines (a partial last line from a kill is dropped).
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  return lines;
}

class Progress {
 public:
  Progress(size_t total, bool on) : total_(total), on_(on), t0_(std::chrono::steady_clock::now()) {}
  void tick(size_t done) const {
    if (!on_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double rate = s > 0 ? done / s : 0;
    const int width = 30, fill = total_ ? int(width * done / total_) : width;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu points  %.1f/s  %.0fs left ", std::string(fill, '#').c_str(),
                 std::string(width - fill, '.').c_str(), done, total_, rate, rate > 0 ? (total_ - done) / rate : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  size_t total_;
  bool on_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& opt) {
  auto* cmd = app.add_subcommand("sweep", "run a scenario over the Cartesian product of --grid axes, in parallel; "
                                          "results stream to CSV or JSON lines as points finish");
  cmd->add_option("scenario", opt.scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--grid,-g", opt.grids, "an axis: key.path=v1,v2,... (repeatable; any --set key)")
      ->required()->type_name("KEY=V1,V2");
  cmd->add_option("--set,-s", opt.overrides, "override a key for every point (repeatable)")->type_name("KEY=VALUE");
  cmd->add_option("--output,-o", opt.output, "write to FILE (standard output when absent)");
  cmd->add_option("--format,-f", opt.format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_flag("--resume", opt.resume, "continue an interrupted sweep: skip the points already in --output");
  cmd->add_option("--threads", opt.threads, "worker threads, 0 = all cores; never changes results")->check(CLI::NonNegativeNumber);
  return cmd;
}

int cmd_sweep(const SweepOptions& opt) {
  Layout L;
  L.csv = opt.format == "csv";
  for (const auto& g : opt.grids) L.axes.push_back(parse_grid_axis(g));
  const auto points = grid_points(L.axes);
  // Columns: throughput ones when the scenario (with the first point's values) has a deployment.
  LoadOptions first;
  first.overrides = opt.overrides;
  first.overrides.insert(first.overrides.end(), points[0].begin(), points[0].end());
  const ScenarioSpec base = load_scenario(opt.scenario, first, builtin_registries());
  L.columns = flat_columns(base.deployment.enabled);
  const size_t lines_per_point = base.setups.size();  // or 1 line carrying the point's error

  std::set<long> done;
  std::vector<std::string> kept;  // complete lines of an earlier run
  if (!opt.output.empty() && std::filesystem::exists(opt.output)) {
    if (!opt.resume)
      throw Error(opt.output, "--output", opt.output, "already exists; pass --resume to continue it, or choose another file");
    kept = read_lines(opt.output);
    if (L.csv && (kept.empty() || kept[0] + "\n" != L.header()))
      throw Error(opt.output, "--resume", opt.output, "its header does not match this sweep's grid and columns");
    // A point counts as done only when all its lines made it (a kill can cut a point's block short).
    std::map<long, std::vector<const std::string*>> by_point;
    for (const auto& line : kept)
      if (const long p = line_point(line, L.csv); p >= 0) by_point[p].push_back(&line);
    std::vector<std::string> complete;
    for (const auto& [p, lines] : by_point)
      if (lines.size() == lines_per_point || (lines.size() == 1 && has_error(*lines[0], L.csv))) {
        done.insert(p);
        for (const auto* l : lines) complete.push_back(*l);
      }
    kept = std::move(complete);
  } else if (opt.resume && opt.output.empty()) {
    throw Error("", "--resume", "", "needs --output FILE");
  }
  std::vector<size_t> todo;
  for (size_t i = 0; i < points.size(); ++i)
    if (!done.count(long(i))) todo.push_back(i);

  std::FILE* out = stdout;
  if (!opt.output.empty()) {
    std::string text = L.header();
    for (const auto& line : kept)
      if (line_point(line, L.csv) >= 0) text += line + "\n";
    write_file_atomic(opt.output, text);  // drops a half-written last line from a kill
    out = std::fopen(opt.output.c_str(), "ab");
    if (!out) throw Error(opt.output, "--output", opt.output, "cannot open for appending");
  } else {
    std::fputs(L.header().c_str(), out);
  }

  std::mutex mu;
  std::map<size_t, std::string> pending;  // standard output: finished points waiting for their turn
  size_t next_to_print = 0, finished = 0;
  const Progress progress(todo.size(), isatty(fileno(stderr)) && !opt.output.empty());
  ThreadPool pool(opt.threads);
  pool.parallel_for(int64_t(todo.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const size_t i = todo[size_t(k)];
      std::vector<std::string> values;
      for (const auto& kv : points[i]) values.push_back(kv.substr(kv.find('=') + 1));
      std::string lines;
      try {
        LoadOptions lo;
        lo.overrides = opt.overrides;
        lo.overrides.insert(lo.overrides.end(), points[i].begin(), points[i].end());
        lo.overrides.push_back("run.threads=1");
        const ScenarioResult r = simulate(load_scenario(opt.scenario, lo, builtin_registries()), builtin_registries());
        lines = point_lines(L, i, values, &r, "");
      } catch (const Error& err) {
        lines = point_lines(L, i, values, nullptr, err.what());
      }
      std::lock_guard<std::mutex> lk(mu);
      if (opt.output.empty()) {
        pending[i] = std::move(lines);
        while (!pending.empty() && pending.begin()->first == todo[next_to_print]) {
          std::fputs(pending.begin()->second.c_str(), out);
          pending.erase(pending.begin());
          ++next_to_print;
        }
      } else {
        std::fputs(lines.c_str(), out);
      }
      std::fflush(out);
      progress.tick(++finished);
    }
  });
  if (out != stdout) {
    std::fclose(out);
    // Complete: rewrite in point order (stable, so setups keep their order within a point).
    auto lines = read_lines(opt.output);
    std::stable_sort(lines.begin(), lines.end(), [&](const std::string& a, const std::string& b) {
      return line_point(a, L.csv) < line_point(b, L.csv);
    });
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    write_file_atomic(opt.output, text);
  }
  return 0;
}

}  // namespace moesim::cli
