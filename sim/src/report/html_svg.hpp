// Inline SVG building blocks for the HTML report: escaping, number formatting, scales, axes, colours and
// a small SVG writer. Every text that reaches the page goes through escape().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moesim::html {

// &, <, >, " and ' as entities: safe in element text and in quoted attributes.
std::string escape(std::string_view s);
// At most max_chars characters (UTF-8 code points), with an ellipsis when cut. Not escaped.
std::string shorten(std::string_view s, size_t max_chars);
// Human number: thousands without decimals, small numbers with 3 significant digits.
std::string num(double v);
std::string printf_num(const char* fmt, double v);

// Ticks at 1, 2 or 5 x 10^n covering [lo, hi]; the last one is >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
std::string tick_label(double v, double step);

// Maps a data interval onto a pixel interval, linearly or on a log scale (base irrelevant).
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  bool log = false;
  double operator()(double v) const;
};

std::string category_colour(size_t i);  // 10 distinguishable colours, cycling
std::string heat_colour(double t);      // t in [0, 1] -> viridis-like ramp

struct Box {
  double x = 0, y = 0, w = 0, h = 0;  // the plot area inside the margins
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

// An <svg> element under construction. Coordinates in px of the viewBox; the page scales it to fit.
class Svg {
 public:
  // id and chart name the chart (id and data-chart attributes); title is drawn at the top.
  Svg(const std::string& id, const std::string& chart, double width, double height, const std::string& title);
  // tip (plain text, escaped here) becomes a <title> child: the browser shows it on hover.
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& tip = "");
  void circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke, const std::string& tip = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1, bool dashed = false);
  void path(const std::string& d, const std::string& stroke, double width = 1.5);
  // text is plain (escaped here); anchor: start, middle or end; rotate: degrees about (x, y).
  void text(double x, double y, const std::string& text, const std::string& anchor = "start", const std::string& cls = "",
            double rotate = 0);
  void raw(const std::string& markup) { body_ += markup; }
  double width() const { return width_; }
  std::string str() const;

 private:
  std::string body_;
  double width_, height_;
};

std::string px(double v);  // a coordinate, one decimal

// Grid lines and tick labels on the left of the box, and the axis label rotated along it.
void y_axis(Svg& s, const Box& b, const Scale& y, const std::vector<double>& ticks, const std::string& label);
// Tick labels under the box, and the axis label centred under them.
void x_axis(Svg& s, const Box& b, const Scale& x, const std::vector<double>& ticks, const std::string& label);
// A row of coloured squares with names, starting at (x, y); wraps at max_x. Returns the y below it.
double legend(Svg& s, double x, double y, double max_x, const std::vector<std::pair<std::string, std::string>>& items);

}  // namespace moesim::html
