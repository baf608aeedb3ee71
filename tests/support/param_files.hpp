// Value-parameterised tests over the files of a source directory: the files, sorted, and a test name
// made from each file's stem (gtest names allow only letters, digits and '_').
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

namespace moesim::testing {

// The files of `dir` whose name ends with `extension` (".yaml"), sorted by path.
inline std::vector<std::filesystem::path> files_with_extension(const std::filesystem::path& dir,
                                                               const std::string& extension) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == extension) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// For INSTANTIATE_TEST_SUITE_P: "deepseek-r1-ep32-skew.yaml" -> "deepseek_r1_ep32_skew".
inline std::string stem_test_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  std::string n = info.param.stem().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

}  // namespace moesim::testing
