// moesim plan's outputs: the table for people, the JSON document, and the HTML report's series.
#pragma once

#include "moesim/html_report.hpp"
#include "moesim/plan.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace moesim::cli {

void write_plan_table(const PlanRequest& req, const PlanResult& r, std::ostream& os);
nlohmann::ordered_json plan_json(const PlanRequest& req, const PlanResult& r);
HtmlExtras plan_report_extras(const PlanRequest& req, const PlanResult& r);

}  // namespace moesim::cli
