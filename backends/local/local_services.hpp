// The `local` platform: real work on this machine, for `stepq live run --platform local`.
//
//   image   → resolve the step's program (a path, or a name on PATH) and check it is executable
//   storage → create <root>/session-N, refusing when free space is below the step's size_bytes
//   data    → fetch the step's URL (file:, http(s):// via libcurl) into the session directory,
//             checking size and sha256; a partial download never has the final name
//   launch  → start the step's program (args, env, cwd = session directory), detached
//   poll    → has the program a launch predecessor started finished? exit 0 = ready
//
// State lives in files under the session directory (.stepq/), never in memory, so a launch made
// by one worker process can be polled by another, also after the first was killed.
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

  std::filesystem::path session_dir(std::uint64_t session) const;

 private:
  std::filesystem::path root_, scenario_dir_;
};

// Helpers, exposed for tests.
// The executable a program name resolves to (PATH search for a bare name), or an error message.
bool resolve_program(const std::string& program, std::string& path_or_error);
// Downloads `url` to `dest` (via dest + ".part…"), checking size and sha256 when given.
OpResult fetch(const std::string& url, const std::filesystem::path& dest, std::optional<double> size,
               const std::string& sha256);

}  // namespace stepq::local
