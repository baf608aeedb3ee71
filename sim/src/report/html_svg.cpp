#include "report/html_svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace moesim::html {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view s, size_t max_chars) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (chars == max_chars) break;
    ++chars;
  }
  if (i >= s.size()) return std::string(s);
  // Cut one more character to make room for the ellipsis.
  size_t cut = i;
  do --cut; while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80);
  return std::string(s.substr(0, cut)) + "\u2026";
}

std::string printf_num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "-";
  if (std::fabs(v) >= 1000) return printf_num("%.0f", v);
  if (v == 0) return "0";
  return printf_num("%.3g", v);
}

std::string px(double v) { return printf_num("%.1f", v); }

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> t;
  const double first = std::floor(lo / step) * step;
  for (int i = 0; i < 100; ++i) {
    const double v = first + i * step;
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (v >= hi - step * 1e-9) break;
  }
  return t;
}

std::string tick_label(double v, double step) {
  if (std::fabs(v) >= 1e6 && step >= 1e5) return printf_num("%gM", v / 1e6);
  if (std::fabs(v) >= 1e4 && step >= 1e3) return printf_num("%gk", v / 1e3);
  const int decimals = step >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(step) - 1e-9)));
  return printf_num(("%." + std::to_string(decimals) + "f").c_str(), v);
}

double Scale::operator()(double v) const {
  double t;
  if (log) {
    const double a = std::log(std::max(d0, 1e-300)), b = std::log(std::max(d1, 1e-300));
    t = b == a ? 0.5 : (std::log(std::max(v, 1e-300)) - a) / (b - a);
  } else {
    t = d1 == d0 ? 0.5 : (v - d0) / (d1 - d0);
  }
  return r0 + t * (r1 - r0);
}

std::string category_colour(size_t i) {
  static constexpr std::array<const char*, 10> c = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return c[i % c.size()];
}

std::string heat_colour(double t) {
  static constexpr double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
  const int i = std::min(3, int(t));
  const double f = t - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(std::lround(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]))),
                int(std::lround(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]))),
                int(std::lround(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]))));
  return buf;
}

Svg::Svg(const std::string& id, const std::string& chart, double width, double height, const std::string& title)
    : width_(width), height_(height) {
  body_ = "<svg id=\"" + escape(id) + "\" data-chart=\"" + escape(chart) + "\" viewBox=\"0 0 " + px(width) + " " +
          px(height) + "\" width=\"" + px(width) + "\" role=\"img\" aria-label=\"" + escape(title) + "\">\n";
  text(width / 2, 22, title, "middle", "chart-title");
}

namespace {
std::string tip_markup(const std::string& tip) { return tip.empty() ? "" : "<title>" + escape(tip) + "</title>"; }
}  // namespace

void Svg::rect(double x, double y, double w, double h, const std::string& fill, const std::string& tip) {
  body_ += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(0.0, w)) + "\" height=\"" +
           px(std::max(0.0, h)) + "\" fill=\"" + fill + "\"";
  body_ += tip.empty() ? "/>\n" : ">" + tip_markup(tip) + "</rect>\n";
}

void Svg::circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke, const std::string& tip) {
  body_ += "<circle cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"" + px(r) + "\" fill=\"" + fill + "\" stroke=\"" +
           stroke + "\" stroke-width=\"1.5\"";
  body_ += tip.empty() ? "/>\n" : ">" + tip_markup(tip) + "</circle>\n";
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& stroke, double width, bool dashed) {
  body_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" stroke=\"" +
           stroke + "\" stroke-width=\"" + px(width) + "\"" + (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
}

void Svg::path(const std::string& d, const std::string& stroke, double width) {
  body_ += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + px(width) + "\"/>\n";
}

void Svg::text(double x, double y, const std::string& content, const std::string& anchor, const std::string& cls,
               double rotate) {
  body_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"";
  if (!cls.empty()) body_ += " class=\"" + cls + "\"";
  if (rotate != 0) body_ += " transform=\"rotate(" + px(rotate) + " " + px(x) + " " + px(y) + ")\"";
  body_ += ">" + escape(content) + "</text>\n";
}

std::string Svg::str() const { return body_ + "</svg>\n"; }

void y_axis(Svg& s, const Box& b, const Scale& y, const std::vector<double>& ticks, const std::string& label) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  for (double t : ticks) {
    const double py = y(t);
    s.line(b.x, py, b.right(), py, "#e3e3e3");
    s.text(b.x - 6, py + 4, tick_label(t, step), "end", "tick");
  }
  s.line(b.x, b.y, b.x, b.bottom(), "#555");
  s.text(b.x - 52, b.y + b.h / 2, label, "middle", "axis-label", -90);
}

void x_axis(Svg& s, const Box& b, const Scale& x, const std::vector<double>& ticks, const std::string& label) {
  const double step = ticks.size() > 1 ? std::fabs(ticks[1] - ticks[0]) : 1.0;
  s.line(b.x, b.bottom(), b.right(), b.bottom(), "#555");
  for (double t : ticks) {
    const double px_ = x(t);
    s.line(px_, b.bottom(), px_, b.bottom() + 4, "#555");
    s.text(px_, b.bottom() + 17, x.log ? num(t) : tick_label(t, step), "middle", "tick");
  }
  s.text(b.x + b.w / 2, b.bottom() + 38, label, "middle", "axis-label");
}

double legend(Svg& s, double x, double y, double max_x, const std::vector<std::pair<std::string, std::string>>& items) {
  const double x0 = x;
  for (const auto& [name, colour] : items) {
    const std::string shown = shorten(name, 40);
    const double w = 22 + 7.0 * double(shown.size());
    if (x + w > max_x && x > x0) {
      x = x0;
      y += 18;
    }
    s.rect(x, y - 10, 12, 12, colour);
    s.text(x + 16, y, shown, "start", "legend", 0);
    x += w + 10;
  }
  return y + 18;
}

}  // namespace moesim::html
