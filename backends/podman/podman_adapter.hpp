// The `podman` adapter of the platforms file (issue 15, item 3): image, launch, poll and delete
// kinds run against a Podman service (libpod REST v4 over its unix socket; podman_api.hpp).
//
//   image  → pull the template's image (policy `missing`: a re-run downloads nothing); a failed
//            pull (reported inside Podman's 200 stream) fails the step with Podman's text
//   launch → create and start the container `external_name(instance, session, step)` (labels
//            stepq.instance, stepq.session, stepq.step), the session's directory
//            (<local_root>/session-N, as the local platform makes it) bind-mounted at `mount_at`.
//            Looked up first, so a step run again never creates a second one nor restarts one
//            that has exited: `created` is started, anything else is left as it is
//   poll   → ready once the launches it comes after' containers were seen running (or have exited 0);
//            one that exited non-zero first fails the step with its exit code and its log's tail
//   delete → stop (SIGTERM, SIGKILL after stop_timeout_s) and remove each container the session's
//            launch steps made; absent = done, so it is safe to run again and after a failure
#pragma once
#include "backends/live/adapter.hpp"

namespace stepq::podman {

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg);

}  // namespace stepq::podman
