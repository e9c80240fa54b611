// The `rucio` adapter of the platforms file: data kinds make a Rucio replication rule for their
// DID and wait until it is OK; work kinds extend the lifetime of the session's rules (a lease);
// delete and cleanup kinds delete the rules the session made (rule_ops.hpp). Keys: url,
// auth_url, account, username, password_env / password_file, rse_expression, did / dids,
// lifetime_s, activity, poll_interval_s, max_wait_s, connect_timeout_s, total_timeout_s
// (docs/platforms.md).
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::rucio {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::rucio
