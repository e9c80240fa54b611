// The `skaha` adapter of the platforms file: launch kinds create a Skaha session named after the
// session and step (external_name), poll kinds watch it Pending → Running, delete kinds remove
// it, image kinds check that Skaha offers the image. Keys: url, token_env / token_file, image /
// images, type, cores, ram, cmd, args, env, limit_wait_s, connect_timeout_s, total_timeout_s
// (docs/platforms.md).
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::skaha {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::skaha
