// `stepq validate`: what a valid scenario contains, plan by plan, with the broker's
// queue-blind prepare-cost estimate for each step and each template.
#pragma once
#include <ostream>

#include "core/scenario.hpp"

namespace stepq {

void print_validation(std::ostream& out, const Scenario& sc);

}  // namespace stepq
