#pragma once

#include "moesim/report.hpp"

namespace moesim {

std::unique_ptr<Reporter> make_table_reporter();
std::unique_ptr<Reporter> make_json_reporter();
std::unique_ptr<Reporter> make_csv_reporter();

}  // namespace moesim
