// stepq's exit statuses, the same for every command (README, "Bad input"): scripts may rely on them.
#pragma once

namespace stepq {

constexpr int kOk = 0;         // done
constexpr int kRunFailed = 1;  // the input was good but the run failed (a simulation error, a lost database)
constexpr int kBadInput = 2;   // a bad file, argument or database: the message names it and says what to do

}  // namespace stepq
