// Throughput charts of the HTML report: step-time breakdown, throughput against batch size, Pareto frontier.
#include "report/html_charts.hpp"
#include "report/html_svg.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace moesim::html {

namespace {

constexpr double kWidth = 1100;

struct Part {
  const char* name;
  double (*get)(const ThroughputResult::Breakdown&);
};

// The parts that add up to the mean step time (dispatch and combine appear as their exposed part).
const std::vector<Part>& parts() {
  static const std::vector<Part> p = {
      {"attention", [](const ThroughputResult::Breakdown& b) { return b.attention_s; }},
      {"dense layers", [](const ThroughputResult::Breakdown& b) { return b.dense_layers_s; }},
      {"shared experts", [](const ThroughputResult::Breakdown& b) { return b.shared_experts_s; }},
      {"routed experts", [](const ThroughputResult::Breakdown& b) { return b.routed_experts_s; }},
      {"router", [](const ThroughputResult::Breakdown& b) { return b.router_s; }},
      {"TP all-reduce", [](const ThroughputResult::Breakdown& b) { return b.tp_comm_s; }},
      {"all-to-all, exposed", [](const ThroughputResult::Breakdown& b) { return b.exposed_comm_s; }},
      {"MTP", [](const ThroughputResult::Breakdown& b) { return b.mtp_s; }},
      {"embedding", [](const ThroughputResult::Breakdown& b) { return b.embedding_s; }},
      {"LM head", [](const ThroughputResult::Breakdown& b) { return b.lm_head_s; }},
      {"overhead", [](const ThroughputResult::Breakdown& b) { return b.overhead_s; }},
      {"lost to imbalance", [](const ThroughputResult::Breakdown& b) { return b.imbalance_s; }},
      {"optimizer, gradient sync, bubble", [](const ThroughputResult::Breakdown& b) {
         return b.optimizer_s + b.exposed_grad_sync_s + b.pipeline_bubble_s;
       }},
  };
  return p;
}

double total_ms(const ThroughputResult& t) {
  double sum = 0;
  for (const Part& p : parts()) sum += p.get(t.breakdown) * 1e3;
  return sum;
}

}  // namespace

std::string breakdown_chart(const std::vector<SetupRef>& refs) {
  std::vector<const SetupRef*> rows;
  double xmax = 0;
  for (const auto& r : refs)
    if (r.setup->throughput.enabled) rows.push_back(&r), xmax = std::max(xmax, total_ms(r.setup->throughput));
  if (rows.empty()) return "";
  const double row_h = 30, gap = 14;
  const Box b{190, 50, kWidth - 280, double(rows.size()) * (row_h + gap)};
  Svg s("chart-step-breakdown", "step-breakdown", kWidth, b.bottom() + 100, "Where a step's time goes (mean step)");
  const auto ticks = nice_ticks(0, std::max(1e-9, xmax));
  const Scale x{0, ticks.back(), b.x, b.right()};
  for (double t : ticks) s.line(x(t), b.y, x(t), b.bottom(), "#e3e3e3");
  for (size_t i = 0; i < rows.size(); ++i) {
    const ThroughputResult& t = rows[i]->setup->throughput;
    const double y0 = b.y + double(i) * (row_h + gap) + gap / 2, sum = total_ms(t);
    double acc = 0;
    for (size_t p = 0; p < parts().size(); ++p) {
      const double v = parts()[p].get(t.breakdown) * 1e3;
      if (v <= 0) continue;
      s.rect(x(acc), y0, x(acc + v) - x(acc), row_h, category_colour(p),
             rows[i]->label + ", " + parts()[p].name + ": " + printf_num("%.3f", v) + " ms (" +
                 printf_num("%.1f", sum > 0 ? 100 * v / sum : 0.0) + "% of the step)");
      acc += v;
    }
    s.text(b.x - 8, y0 + row_h / 2 + 4, shorten(rows[i]->label, 24), "end", "group-label");
    s.text(x(acc) + 6, y0 + row_h / 2 + 4, printf_num("%.2f ms", acc), "start", "note-label");
  }
  x_axis(s, b, x, ticks, "time per step (ms)");
  s.text(b.x - 150, b.y + b.h / 2, "setup", "middle", "axis-label", -90);
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t p = 0; p < parts().size(); ++p) {
    bool present = false;
    for (const SetupRef* r : rows) present = present || parts()[p].get(r->setup->throughput.breakdown) > 0;
    if (present) items.push_back({parts()[p].name, category_colour(p)});
  }
  legend(s, b.x, b.bottom() + 64, kWidth - 20, items);
  return s.str();
}

namespace {

// Setups in first-seen order, so colours follow the report's setup order.
std::vector<std::string> series_names(const std::vector<BatchPoint>& points) {
  std::vector<std::string> names;
  for (const auto& p : points)
    if (std::find(names.begin(), names.end(), p.setup) == names.end()) names.push_back(p.setup);
  return names;
}

// One panel: value(point) against batch, one line per setup.
void batch_panel(Svg& s, const Box& b, const std::vector<BatchPoint>& points, const std::vector<std::string>& names,
                 double (*value)(const BatchPoint&), const std::string& ylabel, const std::string& unit) {
  double xmin = 1e300, xmax = 0, ymax = 0;
  std::set<double> batches;
  for (const auto& p : points) {
    xmin = std::min(xmin, p.batch), xmax = std::max(xmax, p.batch), ymax = std::max(ymax, value(p));
    batches.insert(p.batch);
  }
  const bool log = xmin > 0 && xmax / xmin >= 8;
  const Scale x{log ? xmin : 0.0, xmax, b.x + 10, b.right() - 10, log};
  const auto yt = nice_ticks(0, std::max(1e-9, ymax));
  const Scale y{0, yt.back(), b.bottom(), b.y};
  y_axis(s, b, y, yt, ylabel);
  std::vector<double> xt(batches.begin(), batches.end());
  if (!log || xt.size() > 10) xt = log ? std::vector<double>{xmin, xmax} : nice_ticks(0, xmax);
  x_axis(s, b, x, xt, "batch (tokens per step)");
  for (size_t i = 0; i < names.size(); ++i) {
    std::vector<const BatchPoint*> pts;
    for (const auto& p : points)
      if (p.setup == names[i]) pts.push_back(&p);
    std::sort(pts.begin(), pts.end(), [](const BatchPoint* a, const BatchPoint* c) { return a->batch < c->batch; });
    std::string d;
    for (const BatchPoint* p : pts) d += (d.empty() ? "M" : " L") + px(x(p->batch)) + " " + px(y(value(*p)));
    s.path(d, category_colour(i), 2);
    for (const BatchPoint* p : pts)
      s.circle(x(p->batch), y(value(*p)), 4, category_colour(i), "#fff",
               names[i] + ", batch " + num(p->batch) + ": " + num(value(*p)) + " " + unit);
  }
}

}  // namespace

std::string batch_chart(const std::vector<BatchPoint>& points) {
  if (points.empty()) return "";
  const auto names = series_names(points);
  Svg s("chart-batch-throughput", "batch-throughput", kWidth, 420, "Throughput and p99 step time against batch size");
  const Box left{80, 50, 430, 270}, right{640, 50, 430, 270};
  batch_panel(s, left, points, names, [](const BatchPoint& p) { return p.tokens_per_s; }, "throughput (tokens/s)", "tokens/s");
  batch_panel(s, right, points, names, [](const BatchPoint& p) { return p.step_time_p99 * 1e3; }, "p99 step time (ms)", "ms");
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t i = 0; i < names.size(); ++i) items.push_back({names[i], category_colour(i)});
  legend(s, left.x, left.bottom() + 66, kWidth - 20, items);
  return s.str();
}

namespace {

std::string pareto_tip(const ParetoPoint& p) {
  return p.label + " (" + std::to_string(p.devices) + " x " + p.hardware + "): " + num(p.tokens_per_s_per_device) +
         " tokens/s per device at " + printf_num("%.2f", p.latency_s * 1e3) + " ms" + (p.on_frontier ? ", on the frontier" : "");
}

// The frontier points of one hardware, joined in order of latency.
void frontier_line(Svg& s, const Scale& x, const Scale& y, const std::vector<ParetoPoint>& points, const std::string& hw,
                   const std::string& colour) {
  std::vector<const ParetoPoint*> front;
  for (const auto& p : points)
    if (p.on_frontier && p.hardware == hw) front.push_back(&p);
  std::sort(front.begin(), front.end(), [](const ParetoPoint* a, const ParetoPoint* c) { return a->latency_s < c->latency_s; });
  std::string d;
  for (const ParetoPoint* p : front) d += (d.empty() ? "M" : " L") + px(x(p->latency_s * 1e3)) + " " + px(y(p->tokens_per_s_per_device));
  if (front.size() > 1) s.path(d, colour, 1.5);
}

}  // namespace

std::string pareto_chart(const std::vector<ParetoPoint>& points) {
  if (points.empty()) return "";
  std::map<std::string, size_t> colour;
  std::vector<std::pair<std::string, std::string>> items;
  double xmax = 0, ymax = 0;
  for (const auto& p : points) {
    if (!colour.count(p.hardware)) colour.emplace(p.hardware, colour.size()), items.push_back({p.hardware, category_colour(colour.size() - 1)});
    xmax = std::max(xmax, p.latency_s * 1e3), ymax = std::max(ymax, p.tokens_per_s_per_device);
  }
  Svg s("chart-pareto", "pareto", kWidth, 470, "Throughput per device against latency");
  const Box b{90, 50, kWidth - 130, 300};
  const auto xt = nice_ticks(0, std::max(1e-9, xmax)), yt = nice_ticks(0, std::max(1e-9, ymax));
  const Scale x{0, xt.back(), b.x, b.right()}, y{0, yt.back(), b.bottom(), b.y};
  y_axis(s, b, y, yt, "throughput per device (tokens/s)");
  x_axis(s, b, x, xt, "latency: TPOT at decode, TTFT at prefill (ms)");
  for (const auto& [hw, ci] : colour) frontier_line(s, x, y, points, hw, category_colour(ci));
  for (const auto& p : points) {
    const std::string c = category_colour(colour.at(p.hardware));
    s.circle(x(p.latency_s * 1e3), y(p.tokens_per_s_per_device), p.on_frontier ? 6 : 4, p.on_frontier ? c : "#fff", c,
             pareto_tip(p));
  }
  const double below = legend(s, b.x, b.bottom() + 64, kWidth - 20, items);
  s.text(b.x, below + 4, "filled and joined (one line per hardware): on the Pareto frontier (no other candidate is both "
                         "faster per device and lower latency); hollow: dominated", "start", "legend");
  return s.str();
}

}  // namespace moesim::html
