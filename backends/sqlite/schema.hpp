// The step table's schema as numbered migrations: migration i takes user_version i-1 to i.
#pragma once
#include <vector>

namespace stepq::sqlite {

const std::vector<const char*>& migrations();

}  // namespace stepq::sqlite
