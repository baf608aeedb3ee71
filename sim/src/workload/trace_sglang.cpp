// workload/trace_sglang.cpp: SGLang's expert-distribution dump as JSON, {"logical_count": [steps][layers]
// [experts]} (what `--init-expert-location` accepts; scripts/sglang-pt-to-json converts the torch .pt
// dump of `--expert-distribution-recorder-mode stat`). Streamed: one pass at open validates every count
// and records the byte range of each innermost [experts] list; read() parses one such range.
// Strict JSON: one object, closed, nothing but white space after it, `logical_count` exactly once;
// numbers as JSON writes them (Python's NaN and Infinity are read, then refused as counts).
#include "workload/trace_file.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace moesim::trace {
namespace {

constexpr const char* kKey = "logical_count";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool ends_token(char c) { return is_space(c) || c == ',' || c == ']' || c == '}' || c == '\0'; }

// A number as JSON (or Python's json, which writes NaN and Infinity) spells it; false if it is not one
// (strtod alone would also take hex, "inf" and "nan").
bool parse_number(const std::string& tok, double& v) {
  if (tok == "NaN" || tok == "Infinity" || tok == "-Infinity") {
    v = tok == "NaN" ? std::nan("") : tok[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (tok.empty() || tok[0] == '+' || tok.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  v = std::strtod(tok.c_str(), &end);
  return end == tok.c_str() + tok.size();
}

// Text from the file as an error message shows it: control bytes and non-ASCII as \xNN.
std::string shown(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string cell_key(int64_t s, int64_t l) {
  return std::string(kKey) + "[" + std::to_string(s) + "][" + std::to_string(l) + "]";
}

class SglangJsonCounts final : public CountsSource {
 public:
  SglangJsonCounts(const std::string& path, int num_experts, int top_k) : file_(path), in_(file_), top_k_(top_k) {
    layers_field = std::string(kKey) + "[0]";
    scan_root();
    if (experts != num_experts)
      fail(cell_key(0, 0), std::to_string(experts) + " experts",
           "the model has " + std::to_string(num_experts) + " routed experts; the trace must count each of them");
  }

  void read(int64_t step, int64_t layer, std::vector<int64_t>& out) const override {
    const size_t c = static_cast<size_t>(step * layers + layer);
    std::string text;
    file_.read_at(begin_[c], end_[c] - begin_[c], text);  // "[n0, n1, ...]"
    out.assign(static_cast<size_t>(experts), 0);
    size_t e = 0, i = 1;
    std::string tok;
    while (i < text.size() && e < out.size()) {
      while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
      tok.clear();
      while (i < text.size() && !ends_token(text[i])) tok += text[i++];
      double v = 0;
      MOESIM_CHECK(parse_number(tok, v), file_.path() + ": " + cell_key(step, layer) + " changed since it was read");
      out[e++] = static_cast<int64_t>(v);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& got, const std::string& problem) {
    throw Error(file_.path(), field, got, problem);
  }
  void skip_ws() {
    while (is_space(in_.peek())) in_.get();
  }
  // The next character as an error shows it: "end of file", or the character (shown()).
  std::string next_text() { return in_.at_end() ? "end of file" : shown(std::string(1, in_.peek())); }
  void expect(char c, const std::string& field, const std::string& what) {
    skip_ws();
    const int64_t at = in_.offset();  // 0-based; the file's size at its end
    if (in_.at_end() || in_.peek() != c) fail(field, next_text(), "expected " + what + " at byte " + std::to_string(at));
    in_.get();
  }
  std::string read_string(const std::string& field) {
    expect('"', field, "a string");
    std::string s;
    for (char c = in_.get(); c != '"'; c = in_.get()) {
      if (c == '\0' && in_.at_end()) fail(field, "end of file", "unterminated string");
      if (c == '\\') c = in_.get();
      s += c;
    }
    return s;
  }
  std::string read_token() {
    skip_ws();
    std::string tok;
    while (!ends_token(in_.peek())) tok += in_.get();
    return tok;
  }
  // Skips any JSON value (the dump's other keys: rank, average_utilization_rate_over_window, ...).
  void skip_value(const std::string& field) {
    skip_ws();
    const char c = in_.peek();
    if (c == '"') {
      read_string(field);
    } else if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      in_.get();
      skip_ws();
      if (in_.peek() == close) {
        in_.get();
        return;
      }
      for (;;) {
        if (close == '}') {
          read_string(field);
          expect(':', field, "':'");
        }
        skip_value(field);
        skip_ws();
        if (in_.peek() == ',') in_.get();
        else return expect(close, field, std::string("'") + close + "'");
      }
    } else {
      const std::string got = next_text();
      if (read_token().empty()) fail(field, got, "expected a JSON value");
    }
  }

  void scan_root() {
    expect('{', "", "a JSON object {\"logical_count\": [steps][layers][experts]}");
    bool found = false;
    skip_ws();
    if (in_.peek() != '}')
      for (;;) {
        const std::string key = read_string("");
        expect(':', key, "':'");
        if (key == kKey && found) fail(kKey, "", "duplicated key: the object names logical_count twice");
        if (key == kKey) scan_counts(), found = true;
        else skip_value(key);
        skip_ws();
        if (in_.peek() != ',') break;
        in_.get();
      }
    expect('}', "", "',' or '}' closing the JSON object");
    skip_ws();
    if (!in_.at_end())
      fail("", next_text(), "trailing characters after the JSON object at byte " + std::to_string(in_.offset()));
    if (!found) fail(kKey, "", "missing key: expected {\"logical_count\": [steps][layers][experts]}");
    if (steps == 0 || layers == 0 || experts == 0)
      fail(kKey, shape_text({steps, layers, experts}), "empty trace: expected [steps][layers][experts], none zero");
  }

  // logical_count: [steps][layers][experts] of counts.
  void scan_counts() {
    expect('[', kKey, "a list [steps][layers][experts]");
    for (int64_t s = 0;; ++s) {
      skip_ws();
      if (in_.peek() == ']' && s == 0) break;
      const std::string step_key = std::string(kKey) + "[" + std::to_string(s) + "]";
      expect('[', step_key, "a list of layers");
      int64_t l = 0;
      for (;; ++l) {
        scan_cell(s, l);
        skip_ws();
        if (in_.peek() != ',') break;
        in_.get();
      }
      expect(']', step_key, "']'");
      if (s == 0) layers = l + 1;
      else if (l + 1 != layers)
        fail(step_key, std::to_string(l + 1), "has a different number of layers than logical_count[0] (" +
                                                  std::to_string(layers) + ")");
      steps = s + 1;
      skip_ws();
      if (in_.peek() != ',') break;
      in_.get();
    }
    expect(']', kKey, "']'");
  }

  void scan_cell(int64_t s, int64_t l) {
    const std::string key = cell_key(s, l);
    expect('[', key, "a list of per-expert counts");
    begin_.push_back(in_.offset() - 1);
    int64_t e = 0, hits = 0;
    for (;; ++e) {
      skip_ws();
      const std::string got = next_text();
      const std::string tok = read_token();
      double v = 0;
      const std::string field = key + "[" + std::to_string(e) + "]";
      if (!parse_number(tok, v)) fail(field, tok.empty() ? got : shown(tok), "expected a number");
      hits += check_count(v, tok, file_.path(), field);  // <= 9e15 each: checked before it can overflow
      check_cell_hits(hits, top_k_, file_.path(), key);
      skip_ws();
      if (in_.peek() != ',') break;
      in_.get();
    }
    expect(']', key, "']'");
    end_.push_back(in_.offset());
    if (s == 0 && l == 0) experts = e + 1;
    else if (e + 1 != experts)
      fail(key, std::to_string(e + 1), "has a different number of experts than logical_count[0][0] (" +
                                            std::to_string(experts) + ")");
  }

  TraceFile file_;
  ChunkReader in_;  // used by the scan at open only
  int top_k_;
  std::vector<int64_t> begin_, end_;  // [steps * layers] byte range of each cell's list, '[' to ']'
};

}  // namespace

std::unique_ptr<CountsSource> open_sglang_json(const std::string& path, int num_experts, int top_k) {
  return std::make_unique<SglangJsonCounts>(path, num_experts, top_k);
}

}  // namespace moesim::trace
