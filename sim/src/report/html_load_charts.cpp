// Load-balance charts of the HTML report: per-device load and the expert-by-layer heatmaps.
#include "report/html_charts.hpp"
#include "report/html_svg.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::html {

namespace {

constexpr double kWidth = 1100;

double max_device_load(const std::vector<SetupRef>& refs) {
  double m = 0;
  for (const auto& r : refs)
    for (double v : r.setup->device_assignments_mean) m = std::max(m, v);
  return m;
}

// One setup's bars inside [x0, x0 + w): device d at x0 + d * w / devices; its mean as a dashed line.
void device_group(Svg& s, const Box& b, const Scale& y, double x0, double w, const SetupRef& ref, size_t colour) {
  const auto& loads = ref.setup->device_assignments_mean;
  const size_t n = loads.size();
  double mean = 0;
  for (double v : loads) mean += v / double(n);
  const double slot = w / double(n);
  const double bar = slot >= 4 ? slot * 0.8 : slot;
  for (size_t d = 0; d < n; ++d) {
    const double top = y(loads[d]);
    s.rect(x0 + slot * double(d) + (slot - bar) / 2, top, bar, b.bottom() - top, category_colour(colour),
           ref.label + ", device " + std::to_string(d) + ": " + num(loads[d]) + " assignments per batch (" +
               printf_num("%.3f", mean > 0 ? loads[d] / mean : 0.0) + " x mean)");
    if (n <= 16 && slot >= 14) s.text(x0 + slot * (double(d) + 0.5), b.bottom() + 14, std::to_string(d), "middle", "tick");
  }
  if (n > 16 || slot < 14) {
    s.text(x0 + slot / 2, b.bottom() + 14, "0", "middle", "tick");
    s.text(x0 + slot * (double(n) - 0.5), b.bottom() + 14, std::to_string(n - 1), "middle", "tick");
  }
  s.line(x0, y(mean), x0 + w, y(mean), "#b22222", 2, true);
  const std::string suffix = " (mean " + num(mean) + ")";
  const size_t room = size_t(std::max(4.0, w / 7.5 - double(suffix.size())));
  s.text(x0 + w / 2, b.bottom() + 32, shorten(ref.label, room) + suffix, "middle", "group-label");
}

}  // namespace

std::string device_load_chart(const std::vector<SetupRef>& refs) {
  Svg s("chart-device-load", "device-load", kWidth, 380, "Load per device, mean over steps and layers");
  const Box b{80, 50, kWidth - 100, 250};
  const auto ticks = nice_ticks(0, std::max(1e-9, max_device_load(refs)));
  const Scale y{0, ticks.back(), b.bottom(), b.y};
  y_axis(s, b, y, ticks, "assignments per batch (token-expert pairs)");
  const double gap = refs.size() > 1 ? 28 : 0;
  const double w = (b.w - gap * double(refs.size() - 1)) / double(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) device_group(s, b, y, b.x + double(i) * (w + gap), w, refs[i], i);
  s.line(b.x, b.bottom(), b.right(), b.bottom(), "#555");
  s.text(b.x + b.w / 2, b.bottom() + 52, "device index (one group per setup)", "middle", "axis-label");
  s.line(b.x, b.bottom() + 66, b.x + 28, b.bottom() + 66, "#b22222", 2, true);
  s.text(b.x + 34, b.bottom() + 70, "mean over the setup's devices (a perfectly balanced layout has every bar on it)",
         "start", "legend");
  return s.str();
}

namespace {

double max_expert_load(const std::vector<SetupRef>& refs) {
  double m = 0;
  for (const auto& r : refs)
    for (const auto& layer : r.setup->expert_tokens_mean)
      for (double v : layer) m = std::max(m, v);
  return m;
}

// The colour ramp as a column of small rects beside the heatmap, with its scale.
void heat_legend(Svg& s, const Box& b, double vmax) {
  const double x = b.right() + 24, w = 16;
  const int steps = 40;
  for (int i = 0; i < steps; ++i) {
    const double t = (i + 0.5) / steps;
    s.rect(x, b.bottom() - b.h * (i + 1) / steps, w, b.h / steps + 0.5, heat_colour(t));
  }
  const auto ticks = nice_ticks(0, vmax);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (double t : ticks) {
    if (t > vmax * 1.0001) break;
    const double y = b.bottom() - b.h * t / vmax;
    s.line(x + w, y, x + w + 4, y, "#555");
    s.text(x + w + 6, y + 4, tick_label(t, step), "start", "tick");
  }
  s.text(x + w + 58, b.y + b.h / 2, "tokens per batch", "middle", "axis-label", -90);
}

std::string heatmap(const SetupRef& ref, size_t index, double vmax) {
  const auto& m = ref.setup->expert_tokens_mean;
  const size_t layers = m.size(), experts = m.empty() ? 0 : m[0].size();
  const double cell_h = std::clamp(300.0 / double(std::max<size_t>(layers, 1)), 3.0, 24.0);
  const Box b{80, 50, kWidth - 200, cell_h * double(layers)};
  Svg s("chart-expert-heatmap-" + std::to_string(index), "expert-heatmap", kWidth, b.bottom() + 56,
        "Tokens per expert and MoE layer: " + shorten(ref.label, 60));
  const double cell_w = b.w / double(experts);
  for (size_t l = 0; l < layers; ++l)
    for (size_t e = 0; e < experts; ++e)
      s.rect(b.x + cell_w * double(e), b.y + cell_h * double(l), cell_w + 0.3, cell_h + 0.3, heat_colour(m[l][e] / vmax),
             "layer " + std::to_string(l) + ", expert " + std::to_string(e) + ": " + num(m[l][e]) + " tokens per batch");
  std::vector<double> xt;
  for (double t : nice_ticks(0, double(experts), 8))
    if (t < double(experts)) xt.push_back(t);
  // Tick t labels the centre of expert t's column.
  x_axis(s, b, Scale{0, double(experts), b.x + cell_w / 2, b.right() + cell_w / 2}, xt, "routed expert (logical index)");
  const auto yt = nice_ticks(0, double(layers), std::min<int>(int(layers), 6));
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : yt) {
    if (t >= double(layers)) break;
    s.text(b.x - 6, b.y + cell_h * (t + 0.5) + 4, tick_label(t, ystep), "end", "tick");
  }
  s.text(b.x - 40, b.y + b.h / 2, "MoE layer (index, 0 = first)", "middle", "axis-label", -90);
  heat_legend(s, b, vmax);
  return s.str();
}

}  // namespace

std::string expert_heatmaps(const std::vector<SetupRef>& refs) {
  const double vmax = std::max(1e-9, max_expert_load(refs));
  std::string out;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (refs[i].setup->expert_tokens_mean.empty() || refs[i].setup->expert_tokens_mean[0].empty()) continue;
    out += heatmap(refs[i], i, vmax);
  }
  return out;
}

}  // namespace moesim::html
