#include "cli/scenario_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace stepq {

void add_scenario_args(CLI::App* cmd, ScenarioArgs& a) {
  cmd->add_option("SCENARIO", a.scenario, "Scenario file (JSON; // comments allowed). See docs/scenarios.md.")
      ->required();
  cmd->add_option("--set", a.sets,
                  "Override one field before checking: JSON pointer = value (JSON, or a plain string).\n"
                  "Repeat for several. Example: --set /kinds/data.stage/threads=8")
      ->type_name("PTR=VALUE");
}

Scenario load_scenario(const ScenarioArgs& a) {
  std::vector<Override> ov;
  for (const auto& s : a.sets) ov.push_back(parse_override(s));
  return load_scenario_file(a.scenario, ov);
}

namespace {

// Whole file, or an error message from errno. stdio rather than ifstream, because an ifstream
// "opens" a directory and then just reads nothing; fread reports EISDIR.
bool read_all(const std::string& path, std::string& text, std::string& error) {
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = std::strerror(errno);
    return false;
  }
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) {
    error = std::strerror(errno ? errno : EIO);
    return false;
  }
  return true;
}

}  // namespace

Scenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  std::string text, error;
  if (!read_all(path, text, error)) throw ScenarioError(path + ": cannot read the scenario file: " + error);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const FileReader reader = [dir](const std::string& name) {
    std::filesystem::path p(name);
    if (p.is_relative()) p = dir / p;
    std::string content, err;
    if (!read_all(p.string(), content, err)) throw ScenarioError("cannot read " + p.string() + ": " + err);
    return content;
  };
  return parse_scenario(text, path, overrides, reader);
}

}  // namespace stepq
