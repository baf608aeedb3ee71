// moesim sweep. Points run in parallel (one thread each, so each point's result is what `moesim run`
// gives); every finished point is appended to the output at once and flushed, so a killed sweep loses
// no finished point, and --resume skips the points already in the file (after checking, by the file's
// fingerprint line, that it is the same sweep). When the sweep completes the file is rewritten in point
// order, so the same sweep always leaves the same bytes, with one process or with `mpirun -n N`.
#include "sweep.hpp"

#include "checks.hpp"
#include "commands.hpp"
#include "moesim/config.hpp"
#include "moesim/error.hpp"
#include "moesim/html_report.hpp"
#include "moesim/parallel.hpp"
#include "moesim/sweep.hpp"
#include "sweep_mpi.hpp"
#include "sweep_output.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>

namespace moesim::cli {

namespace {

// Rate and time left on stderr, redrawn in place; only when stderr is a terminal.
class Progress {
 public:
  Progress(size_t total, bool on, bool rows_on_terminal)
      : total_(total), on_(on), rows_on_terminal_(rows_on_terminal), t0_(std::chrono::steady_clock::now()) {}
  void tick(size_t done) const {
    if (!on_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double rate = s > 0 ? done / s : 0;
    const int width = 30, fill = total_ ? int(width * done / total_) : width;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu points  %.2f points/s  %.0f s left ", std::string(fill, '#').c_str(),
                 std::string(width - fill, '.').c_str(), done, total_, rate, rate > 0 ? (total_ - done) / rate : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }
  // Before rows go to the same terminal: wipe the bar so they do not mix (the next tick redraws it).
  void clear() const {
    if (on_ && rows_on_terminal_) std::fprintf(stderr, "\r\x1b[K");
  }

 private:
  size_t total_;
  bool on_, rows_on_terminal_;
  std::chrono::steady_clock::time_point t0_;
};

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

LoadOptions point_options(const SweepOptions& opt, const std::vector<std::string>& point) {
  LoadOptions lo;
  lo.overrides = opt.overrides;
  lo.overrides.insert(lo.overrides.end(), point.begin(), point.end());
  return lo;
}

// Everything every rank needs to run its share of the points.
struct Sweep {
  std::vector<GridAxis> axes;
  std::vector<std::vector<std::string>> points;
  SweepFingerprint fingerprint;
  SweepLayout layout;
  std::optional<ScenarioSpec> base;  // the scenario with --set only, when that loads
};

Sweep describe(const SweepOptions& opt) {
  Sweep s;
  for (const auto& g : opt.grids) s.axes.push_back(parse_grid_axis(g));
  s.points = grid_points(s.axes);
  s.layout.csv = opt.format == "csv";
  for (const auto& a : s.axes) s.layout.keys.insert(s.layout.keys.end(), a.keys.begin(), a.keys.end());
  s.fingerprint = {opt.scenario, fnv1a64(read_file_bytes(opt.scenario)), s.axes, opt.overrides};
  s.layout.fingerprint = fingerprint_json(s.fingerprint);
  try {
    s.base = load_scenario(opt.scenario, point_options(opt, {}), builtin_registries());
  } catch (const Error&) {
    // The grid may be what makes the scenario valid; each point reports its own error.
  }
  return s;
}

// Throughput columns when the scenario has a deployment: as the base says, else the first point that loads.
bool has_throughput(const SweepOptions& opt, const Sweep& s) {
  if (s.base) return s.base->deployment.enabled;
  for (const auto& p : s.points) {
    try {
      return load_scenario(opt.scenario, point_options(opt, p), builtin_registries()).deployment.enabled;
    } catch (const Error&) {
    }
  }
  return false;
}

// What to do when a point sweeps cluster.devices but the deployment fixes a layout for other counts.
std::string layout_hint(const Error& e, const std::vector<std::string>& point, const Sweep& s) {
  const std::string& k = e.key();
  const bool layout_key = k == "deployment.attention" || k == "deployment.experts" || k == "deployment.shared_experts.tp";
  const bool devices_swept = std::any_of(point.begin(), point.end(), [](const std::string& kv) { return kv.rfind("cluster.devices=", 0) == 0; });
  if (!layout_key || !devices_swept) return "";
  int atp = 1, etp = 1;
  if (s.base) atp = s.base->deployment.attention.tp, etp = s.base->deployment.experts.tp;
  std::vector<int> counts;  // the swept device counts that the tensor-parallel degrees divide
  for (const auto& a : s.axes)
    for (size_t k = 0; k < a.keys.size(); ++k)
      if (a.keys[k] == "cluster.devices")
        for (const auto& v : a.values)
          if (const int d = std::atoi(v[k].c_str()); d > 0 && d % atp == 0 && d % etp == 0) counts.push_back(d);
  if (counts.empty()) counts = {8, 16};
  std::string example;
  for (int d : counts) example += (example.empty() ? "" : ",") + ("[" + std::to_string(d) + "," + std::to_string(d / atp) + "," + std::to_string(d / etp) + "]");
  return "; the sweep varies cluster.devices but the scenario fixes the layout: vary them together in one zipped "
         "axis, e.g. --grid 'cluster.devices,deployment.attention.dp,deployment.experts.ep=" + example +
         "' (attention tp " + std::to_string(atp) + ", expert tp " + std::to_string(etp) +
         "), or leave dp and ep out of the scenario (they default to devices / tp)";
}

std::string run_point(const SweepOptions& opt, const Sweep& s, size_t i) {
  std::vector<std::string> values;
  for (const auto& kv : s.points[i]) values.push_back(kv.substr(kv.find('=') + 1));
  try {
    LoadOptions lo = point_options(opt, s.points[i]);
    lo.overrides.push_back("run.threads=1");
    const ScenarioResult r = simulate(load_scenario(opt.scenario, lo, builtin_registries()), builtin_registries());
    return s.layout.point_lines(i, values, &r, "");
  } catch (const Error& err) {
    return s.layout.point_lines(i, values, nullptr, std::string(err.what()) + layout_hint(err, s.points[i], s));
  }
}

// Rank 0: where finished points go. A file gets each point as it finishes; standard output gets them in
// point order (a point waits until those before it are done).
class Sink {
 public:
  Sink(const SweepOptions& opt, const std::vector<size_t>& todo, const Progress& progress, std::FILE* out)
      : opt_(opt), todo_(todo), progress_(progress), out_(out) {}
  void put(size_t point, std::string lines) {
    std::lock_guard<std::mutex> lk(mu_);
    if (opt_.output.empty()) {
      pending_[point] = std::move(lines);
      while (!pending_.empty() && next_ < todo_.size() && pending_.begin()->first == todo_[next_]) {
        progress_.clear();
        std::fputs(pending_.begin()->second.c_str(), out_);
        printed_ += pending_.begin()->second;
        pending_.erase(pending_.begin());
        ++next_;
      }
    } else {
      std::fputs(lines.c_str(), out_);
    }
    std::fflush(out_);
    progress_.tick(++finished_);
  }
  const std::string& printed() const { return printed_; }

 private:
  const SweepOptions& opt_;
  const std::vector<size_t>& todo_;
  const Progress& progress_;
  std::FILE* out_;
  std::mutex mu_;
  std::map<size_t, std::string> pending_;
  std::string printed_;
  size_t next_ = 0, finished_ = 0;
};

// This rank's share of the points: every size-th of the points to do, starting at its rank.
std::vector<size_t> share(const std::vector<size_t>& todo, const MpiWorld& world) {
  std::vector<size_t> mine;
  for (size_t k = size_t(world.rank()); k < todo.size(); k += size_t(world.size())) mine.push_back(todo[k]);
  return mine;
}

void run_share(const SweepOptions& opt, const Sweep& s, const std::vector<size_t>& mine,
               const std::function<void(size_t, std::string)>& done) {
  ThreadPool pool(opt.threads);
  pool.parallel_for(int64_t(mine.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) done(mine[size_t(k)], run_point(opt, s, mine[size_t(k)]));
  });
}

// Rank 0 before any point runs: the columns, what an earlier run left (--resume), the points to do,
// and the output file in its starting state.
void prepare(const SweepOptions& opt, Sweep& s, std::vector<size_t>& todo) {
  std::vector<std::string> kept;
  std::set<size_t> done;
  if (!opt.output.empty() && std::filesystem::exists(opt.output)) {
    if (!opt.resume)
      throw Error(opt.output, "--output", opt.output, "already exists; pass --resume to continue it, or choose another file");
    const auto setups_of = [&](size_t p) {
      try {
        return load_scenario(opt.scenario, point_options(opt, s.points.at(p)), builtin_registries()).setups.size();
      } catch (const std::exception&) {
        return size_t(0);  // a point that no longer loads (or is off the grid) is run again
      }
    };
    ResumeState st = read_resume_state(opt.output, s.layout, s.fingerprint, setups_of);
    done = std::move(st.done);
    kept = std::move(st.lines);
  } else if (opt.resume && opt.output.empty()) {
    throw Error("", "--resume", "", "needs --output FILE");
  }
  for (size_t i = 0; i < s.points.size(); ++i)
    if (!done.count(i)) todo.push_back(i);
  if (!opt.output.empty()) {
    std::string text = s.layout.preamble();
    for (const auto& line : kept) text += line + "\n";
    write_file_atomic(opt.output, text);  // drops a half-written last line from a kill
  }
}

// The final text in point order (stable: setups keep their order within a point).
std::vector<std::string> sorted_point_lines(std::vector<std::string> lines, const SweepLayout& layout) {
  std::vector<std::pair<long, std::string>> keyed;
  for (auto& l : lines)
    if (const long p = layout.row(l).point; p >= 0) keyed.emplace_back(p, std::move(l));
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [p, l] : keyed) out.push_back(std::move(l));
  return out;
}

// After the last point: the file in point order, the --report page, and a word about failed points.
int finish(const SweepOptions& opt, const Sweep& s, const std::string& printed) {
  std::vector<std::string> lines;
  if (!opt.output.empty()) {
    lines = sorted_point_lines(read_lines(opt.output), s.layout);
    std::string text = s.layout.preamble();
    for (const auto& line : lines) text += line + "\n";
    write_file_atomic(opt.output, text);
  } else {
    size_t start = 0;
    for (size_t nl; (nl = printed.find('\n', start)) != std::string::npos; start = nl + 1) lines.push_back(printed.substr(start, nl - start));
  }
  std::vector<SweepRow> rows;
  std::map<long, std::string> failed;
  for (const auto& l : lines) {
    rows.push_back(s.layout.row(l));
    if (!rows.back().error.empty()) failed.emplace(rows.back().point, rows.back().error);
  }
  if (!opt.report.empty()) {
    const std::string hw = s.base && s.base->deployment.enabled ? s.base->hardware.name : "";
    write_file_atomic(opt.report, render_html_report({}, sweep_report_extras(rows, s.axes, opt.scenario, hw)), "--report");
  }
  if (failed.empty()) return 0;
  if (failed.size() == s.points.size())
    throw Error(opt.scenario, "--grid", std::to_string(s.points.size()) + " points",
                "every point failed (each line carries its error); the first: " + failed.begin()->second);
  std::fprintf(stderr, "moesim: sweep: %zu of %zu points failed; each failed point's line carries its error, e.g. point %ld: %s\n",
               failed.size(), s.points.size(), failed.begin()->first, failed.begin()->second.c_str());
  return 0;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& opt) {
  auto* cmd = app.add_subcommand("sweep", "run a scenario over the Cartesian product of --grid axes, in parallel (and "
                                          "over MPI ranks under mpirun); results stream to CSV or JSON lines as points finish");
  cmd->add_option("scenario", opt.scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--grid,-g", opt.grids,
                  "an axis: key.path=v1,v2,... (repeatable; any --set key); several keys varied together: "
                  "'k1,k2=[a1,a2],[b1,b2]'")
      ->required()->type_name("KEY=V1,V2");
  cmd->add_option("--set,-s", opt.overrides, "override a key for every point (repeatable)")->type_name("KEY=VALUE");
  cmd->add_option("--output,-o", opt.output, "write to FILE (standard output when absent)");
  cmd->add_option("--format,-f", opt.format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_flag("--resume", opt.resume,
                "continue an interrupted sweep: skip the points already in --output (refused when the file's "
                "fingerprint shows another scenario, grid or --set)");
  cmd->add_option("--report", opt.report,
                  "also write a self-contained HTML page: throughput against batch size (when the grid varies "
                  "run.tokens_per_step) and the Pareto frontier of the points (with a deployment)")
      ->type_name("FILE.html");
  cmd->add_option("--threads", opt.threads, "worker threads per process, 0 = all cores; never changes results")
      ->check(moesim::cli::at_least(0));
  return cmd;
}

namespace {

// Rank 0 prepares; the others learn the outcome, the columns and the points to do from it. False on a
// rank other than 0 when rank 0 failed (it reports the error); rank 0 rethrows it.
bool agree_on_points(const SweepOptions& opt, MpiWorld& world, Sweep& s, std::vector<size_t>& todo) {
  std::vector<int64_t> plan;  // [ok, has throughput columns, todo...]
  std::optional<Error> failure;
  if (world.rank() == 0) {
    try {
      s = describe(opt);
      s.layout.columns = flat_columns(has_throughput(opt, s));
      prepare(opt, s, todo);
      plan = {1, s.layout.columns.size() > flat_columns(false).size()};
      plan.insert(plan.end(), todo.begin(), todo.end());
    } catch (const Error& e) {
      failure = e;
      plan = {0};
    }
  }
  world.broadcast(plan);
  if (failure) throw *failure;
  if (plan[0] == 0) return false;
  if (world.rank() != 0) {
    s = describe(opt);
    s.layout.columns = flat_columns(plan[1] != 0);
    todo.assign(plan.begin() + 2, plan.end());
  }
  return true;
}

int run_worker(const SweepOptions& opt, const Sweep& s, const std::vector<size_t>& mine, MpiWorld& world) {
  try {
    run_share(opt, s, mine, [&](size_t i, std::string lines) { world.send_point(i, lines); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim: internal error on rank %d: %s; ending every rank\n", world.rank(), e.what());
    world.abort(3);
  }
  world.send_done(mine.size());
  return 0;
}

// Rank 0 runs its share on a second thread while this one takes the other ranks' points as they come.
int run_rank0(const SweepOptions& opt, const Sweep& s, const std::vector<size_t>& todo, const std::vector<size_t>& mine,
              MpiWorld& world) {
  std::FILE* out = stdout;
  if (!opt.output.empty()) {
    out = std::fopen(opt.output.c_str(), "ab");
    if (!out) throw Error(opt.output, "--output", opt.output, "cannot open for appending");
  } else {
    std::fputs(s.layout.preamble().c_str(), out);
  }
  const Progress progress(todo.size(), isatty(fileno(stderr)), opt.output.empty() && isatty(fileno(stdout)));
  Sink sink(opt, todo, progress, out);
  std::exception_ptr own_failure;
  std::thread own([&] {
    try {
      run_share(opt, s, mine, [&](size_t i, std::string lines) { sink.put(i, std::move(lines)); });
    } catch (...) {
      own_failure = std::current_exception();
      if (world.size() > 1) {  // the other ranks would wait for a file that is never finished
        std::fprintf(stderr, "moesim: internal error on rank 0; ending every rank\n");
        world.abort(3);
      }
    }
  });
  std::vector<size_t> ran(size_t(world.size()), 0);  // points per rank
  ran[0] = mine.size();
  for (int workers = world.size() - 1; workers > 0;) {
    MpiWorld::Message m = world.receive();
    if (m.done) ran[size_t(m.rank)] = m.point, --workers;
    else sink.put(m.point, std::move(m.lines));
  }
  own.join();
  if (out != stdout) std::fclose(out);
  if (own_failure) std::rethrow_exception(own_failure);
  if (world.size() > 1) {
    std::string counts;
    for (size_t n : ran) counts += (counts.empty() ? "" : ", ") + std::to_string(n);
    std::fprintf(stderr, "moesim: sweep: %zu points over %d MPI ranks (%s)\n", todo.size(), world.size(), counts.c_str());
  }
  return finish(opt, s, sink.printed());
}

}  // namespace

int cmd_sweep(const SweepOptions& opt) {
  const auto world = MpiWorld::join();
  Sweep s;
  std::vector<size_t> todo;
  if (!agree_on_points(opt, *world, s, todo)) return 2;  // rank 0 reports the error
  const std::vector<size_t> mine = share(todo, *world);
  return world->rank() == 0 ? run_rank0(opt, s, todo, mine, *world) : run_worker(opt, s, mine, *world);
}

}  // namespace moesim::cli
