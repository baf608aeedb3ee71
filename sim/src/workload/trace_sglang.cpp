// workload/trace_sglang.cpp: SGLang's expert-distribution dump as JSON, {"logical_count": [steps][layers]
// [experts]} (what `--init-expert-location` accepts; scripts/sglang-pt-to-json converts the torch .pt
// dump of `--expert-distribution-recorder-mode stat`). Streamed: one pass at open validates every count
// and records the byte range of each innermost [experts] list; read() parses one such range.
#include "workload/trace_file.hpp"

#include <cstdlib>

namespace moesim::trace {
namespace {

constexpr const char* kKey = "logical_count";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool ends_token(char c) { return is_space(c) || c == ',' || c == ']' || c == '}' || c == '\0'; }

// A number as JSON (or Python's json, which writes NaN and Infinity) spells it; false if it is not one.
bool parse_number(const std::string& tok, double& v) {
  if (tok.empty()) return false;
  char* end = nullptr;
  v = std::strtod(tok.c_str(), &end);
  return end == tok.c_str() + tok.size();
}

std::string cell_key(int64_t s, int64_t l) {
  return std::string(kKey) + "[" + std::to_string(s) + "][" + std::to_string(l) + "]";
}

class SglangJsonCounts final : public CountsSource {
 public:
  SglangJsonCounts(const std::string& path, int num_experts) : file_(path), in_(file_) {
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
  void expect(char c, const std::string& field, const std::string& what) {
    skip_ws();
    const int64_t at = in_.offset();  // 0-based; the file's size at its end
    const char got = in_.get();
    if (got != c) fail(field, got ? std::string(1, got) : "end of file", "expected " + what + " at byte " + std::to_string(at));
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
    } else if (read_token().empty()) {
      fail(field, c ? std::string(1, c) : "end of file", "expected a JSON value");
    }
  }

  void scan_root() {
    expect('{', "", "a JSON object {\"logical_count\": [steps][layers][experts]}");
    bool found = false;
    skip_ws();
    if (in_.peek() == '}') in_.get();
    else
      for (;;) {
        const std::string key = read_string("");
        expect(':', key, "':'");
        if (key == kKey) scan_counts(), found = true;
        else skip_value(key);
        skip_ws();
        if (in_.peek() == ',') in_.get();
        else break;
      }
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
    int64_t e = 0;
    for (;; ++e) {
      const std::string tok = read_token();
      double v = 0;
      const std::string field = key + "[" + std::to_string(e) + "]";
      if (!parse_number(tok, v)) fail(field, tok.empty() ? std::string(1, in_.peek()) : tok, "expected a number");
      check_count(v, tok, file_.path(), field);
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
  std::vector<int64_t> begin_, end_;  // [steps * layers] byte range of each cell's list, '[' to ']'
};

}  // namespace

std::unique_ptr<CountsSource> open_sglang_json(const std::string& path, int num_experts) {
  return std::make_unique<SglangJsonCounts>(path, num_experts);
}

}  // namespace moesim::trace
