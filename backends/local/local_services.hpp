// The `local` platform: real work on this machine, for `stepq live run --platform local`.
// What each op does with the step's "local": {...} (docs/scenarios.md, "The local platform"):
//
//   image   → resolve `program` (a path, or a name on PATH) and check it is executable
//   storage → create <root>/session-N (idempotent), refusing when the free space under the root
//             (statvfs) is below `size_bytes`
//   data    → fetch `url` (file:, http(s):// via libcurl) into the session directory, named
//             after the URL's last path segment; checks `size_bytes` and `sha256`. It arrives
//             under a unique temporary name and is renamed only once it is right
//   launch  → start `program` with `args`, `env` (added to the worker's), cwd = the session
//             directory, detached from the worker; exactly once per session and step, also
//             across crashes and paused workers (process.cpp, start_detached)
//   poll    → have the programs of the launch steps it waits for ended? not yet = not ready;
//             exit 0 = ready; else fails "… exit status N; stderr: <last 2 KB>"
//   work    → nothing
//   delete  → stop the programs its launch steps started that are still running (SIGTERM to
//             the process group each launch made)
//   cleanup → when the template has a WriteTemp storage item, empty the session directory
//             (all but .stepq)
//   pushback→ fails: the local platform has nowhere to push output to (`live run` refuses it)
//
// Every failure is an OpResult with a reason naming the program, URL or path; nothing throws.
// Thread-safe, and safe across processes sharing one root: the state of a launch lives in
// files under <session>/.stepq/ (process.cpp), never in memory, so a launch made by one worker
// process can be polled by another, also after the first was killed.
//
// The root is made absolute against the working directory when LocalServices is constructed;
// a relative `file:` URL (file:data/x.txt) is relative to the scenario file's directory.
// Session directories are named by the database's session numbers: give a new database a new
// (or empty) root, or a launch recorded there by an earlier run is taken as already done.
#pragma once
#include <filesystem>

#include "core/interfaces.hpp"

namespace stepq {
struct Scenario;
}

namespace stepq::local {

class LocalServices final : public Services {
 public:
  explicit LocalServices(const Scenario& sc);

  OpResult pull_image(const StepContext& c) override;
  OpResult allocate_storage(const StepContext& c) override;
  OpResult stage_data(const StepContext& c) override;
  OpResult launch(const StepContext& c) override;
  OpResult poll(const StepContext& c) override;
  OpResult work(const StepContext&) override { return {}; }
  OpResult remove(const StepContext& c) override;
  OpResult cleanup(const StepContext& c) override;
  OpResult pushback(const StepContext& c) override;

  std::filesystem::path session_dir(std::uint64_t session) const;

 private:
  std::filesystem::path root_, scenario_dir_;
};

// <root>/session-N: a session's directory, named by its database number. The podman adapter
// bind-mounts the same directory into the session's containers.
std::filesystem::path session_dir(const std::filesystem::path& root, std::uint64_t session);

// Helpers, exposed for tests.
// The executable a program name resolves to (PATH search for a bare name), or an error message.
bool resolve_program(const std::string& program, std::string& path_or_error);
// Downloads `url` to `dest` (via a unique dest + ".part-XXXXXX"), checking size and sha256 when
// given (lower-case hex); on any failure nothing is left under either name.
OpResult fetch(const std::string& url, const std::filesystem::path& dest, std::optional<double> size,
               const std::string& sha256);

}  // namespace stepq::local
