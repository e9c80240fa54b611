// The `srcnet` adapter of the platforms file: a data kind asks the SRCNet data-management API
// where its DID's replicas are (GET /data/locate/{namespace}/{name}); a replica at the site's
// own RSE (`local_rse`) is bind-mounted read-only into the session, so the step completes at once
// and no rule is made; otherwise it falls back to a Rucio rule to that RSE, as the rucio adapter
// does (rule_ops.hpp, settings in "rucio": {…}). Work kinds extend the rules' lifetime, delete
// and cleanup kinds delete the rules the session made. Keys: url, token_env / token_file,
// locate_path, sort, local_rse, did / dids, rucio, connect_timeout_s, total_timeout_s
// (docs/platforms.md).
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::srcnet {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::srcnet
