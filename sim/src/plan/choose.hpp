// plan/choose.hpp: from costed candidates to the planner's recommendations (PlanResult::best,
// best_per_setup, cheapest): the cheapest pool or pools meeting the limits, else the nearest miss.
#pragma once

#include "moesim/plan.hpp"

namespace moesim {

void choose_plans(const PlanRequest& req, PlanResult& r);

}  // namespace moesim
