// The `cavern` adapter of the platforms file (issue 15, item 7): a storage step creates the
// session's ContainerNode in Cavern (VOSpace 2.1, vospace.hpp) and checks its quota; a cleanup or
// delete step (release) deletes it with what it holds. Keys: url, authority_uri, base,
// token_env / token_file, connect_timeout_s, total_timeout_s (docs/platforms.md).
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::cavern {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::cavern
