// The `registry` adapter of the platforms file: image kinds check their image in an OCI /
// Docker v2 registry (registry.hpp). Keys: url, image / images, username, password_env /
// password_file, connect_timeout_s, total_timeout_s (docs/platforms.md).
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::registry {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::registry
