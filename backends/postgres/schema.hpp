#pragma once
#include <vector>

namespace stepq::pg {

// migrations()[v] takes the schema from version v to v + 1. The version is in stepq_meta.
const std::vector<const char*>& migrations();

}  // namespace stepq::pg
