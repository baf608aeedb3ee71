// CLI11 validators with short messages: CLI11's own NonNegativeNumber prints its range as a
// 300-digit number; these say what was expected and what was given.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace moesim::cli {

// A whole number >= lo (e.g. at_least(0) for a seed, at_least(1) for a step count).
inline CLI::Validator at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != s.size()) return "expected a whole number (got '" + s + "')";
        if (v < lo) return "must be at least " + std::to_string(lo) + " (got '" + s + "')";
        return "";
      },
      "INT>=" + std::to_string(lo));
}

}  // namespace moesim::cli
