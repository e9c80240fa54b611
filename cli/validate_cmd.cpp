#include "cli/validate_cmd.hpp"

#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/scenario_file.hpp"
#include "cli/validate.hpp"

namespace stepq {

struct ValidateCommand {
  CLI::App* cmd = nullptr;
  ScenarioArgs args;
  bool quiet = false;
};

std::shared_ptr<ValidateCommand> add_validate_command(CLI::App& app) {
  auto c = std::make_shared<ValidateCommand>();
  c->cmd = app.add_subcommand("validate", "Check a scenario; print each template's plan and prepare cost.");
  add_scenario_args(c->cmd, c->args);
  c->cmd->add_flag("-q,--quiet", c->quiet, "Print nothing: the exit status says whether the scenario is valid.");
  c->cmd->footer(
      "Exit status 0 when the scenario is valid, 2 (with the file and JSON pointer) when not.\n"
      "Example:\n  stepq validate scenarios/skaha-basic.json\n"
      "  stepq validate scenarios/mm4.json --set /kinds/work/threads=3");
  return c;
}

std::optional<int> run_validate_command(ValidateCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    const Scenario s = load_scenario(c.args);
    if (!c.quiet) print_validation(std::cout, s);
    return kOk;
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  }
}

}  // namespace stepq
