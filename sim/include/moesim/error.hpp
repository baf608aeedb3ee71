// moesim/error.hpp: the one exception type for user errors, and the internal invariant check.
#pragma once

#include <stdexcept>
#include <string>

namespace moesim {

// A mistake in what the user wrote or asked for: a scenario file, a --set override, a CLI argument.
// It always names where (file), what (key path, e.g. "setups[1].router.k") and the bad value.
// what() reads: "<file>: <key>: <problem> (got '<value>')".
class Error : public std::runtime_error {
 public:
  Error(std::string file, std::string key, std::string value, std::string problem);

  const std::string& file() const { return file_; }
  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, key_, value_, problem_;
};

// A number as an Error's value or problem quotes it (ostream's default format: 6 significant digits).
std::string value_text(double v);

// Internal invariant: a bug in moesim, never a user mistake. Prints the context and aborts.
[[noreturn]] void check_failed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace moesim

#define MOESIM_CHECK(cond, msg)                                        \
  do {                                                                 \
    if (!(cond)) ::moesim::check_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
