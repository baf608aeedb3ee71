// Runs the moesim binary for CLI tests: exit code, standard output and standard error.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace moesim::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh empty directory under the system temp dir, removed by the caller if wanted.
inline std::filesystem::path make_temp_dir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("moesim-" + tag + "-XXXXXX")).string();
  const char* made = ::mkdtemp(templ.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

// Runs `MOESIM_BINARY <args>` through the shell (args are passed verbatim: quote them yourself).
inline CommandResult run_moesim(const std::string& args) {
  const auto dir = make_temp_dir("cli");
  const auto out = dir / "out", err = dir / "err";
  const std::string cmd = std::string("'") + MOESIM_BINARY + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  std::filesystem::remove_all(dir);
  return r;
}

inline std::string source_path(const std::string& rel) { return std::string(MOESIM_SOURCE_DIR) + "/" + rel; }

}  // namespace moesim::testing
