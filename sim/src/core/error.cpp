#include "moesim/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace moesim {

namespace {
std::string format_error(const std::string& file, const std::string& key, const std::string& value,
                         const std::string& problem) {
  std::string s;
  if (!file.empty()) s += file + ": ";
  if (!key.empty()) s += key + ": ";
  s += problem;
  if (!value.empty()) s += " (got '" + value + "')";
  return s;
}
}  // namespace

std::string value_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

Error::Error(std::string file, std::string key, std::string value, std::string problem)
    : std::runtime_error(format_error(file, key, value, problem)),
      file_(std::move(file)),
      key_(std::move(key)),
      value_(std::move(value)),
      problem_(std::move(problem)) {}

void check_failed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "moesim internal error: %s:%d: check '%s' failed: %s\n", file, line, expr, msg.c_str());
  std::abort();
}

}  // namespace moesim
