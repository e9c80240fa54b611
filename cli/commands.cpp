#include "commands.hpp"

#include <CLI/CLI.hpp>

#include "cli/analyze_cmd.hpp"
#include "cli/calibrate_cmd.hpp"
#include "cli/exit_codes.hpp"
#include "cli/forecast_cmd.hpp"
#include "cli/help_format.hpp"
#include "cli/live_cmd.hpp"
#include "cli/simulate_cmd.hpp"
#include "cli/tune_cmd.hpp"
#include "cli/validate_cmd.hpp"

namespace stepq {

int run_cli(int argc, char** argv) {
  CLI::App app{
      "stepq: predicts and runs the preparation of execution sessions for a science-platform\n"
      "execution broker (image pull, storage, data staging, compute launch) as steps in a\n"
      "database-backed queue served by one worker pool per step kind."};
  app.formatter(std::make_shared<WrappingFormatter>());  // before the subcommands: they inherit it
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  stepq validate scenarios/skaha-basic.json\n"
      "  stepq simulate scenarios/skaha-basic.json --sessions 20000 --json result.json\n"
      "  stepq simulate scenarios/skaha-basic.json --set /kinds/data.stage/threads=8\n"
      "  stepq analyze scenarios/skaha-basic.json\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300\n"
      "  stepq live --help\n"
      "  stepq calibrate --db sqlite:stepq.db --scenario scenarios/skaha-basic.json -o fitted.json\n"
      "  stepq forecast --db sqlite:stepq.db --scenario fitted.json\n"
      "Run 'stepq COMMAND --help' for the options of one command.");
  // In the order `stepq --help` lists them.
  auto validate = add_validate_command(app);
  auto simulate = add_simulate_command(app);
  auto analyze = add_analyze_command(app);
  auto tune = add_tune_command(app);
  auto live = add_live_commands(app);
  auto calibrate = add_calibrate_command(app);
  auto forecast = add_forecast_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;
  }
  if (auto status = run_validate_command(*validate)) return *status;
  if (auto status = run_simulate_command(*simulate)) return *status;
  if (auto status = run_analyze_command(*analyze)) return *status;
  if (auto status = run_tune_command(*tune)) return *status;
  if (auto status = run_live_commands(*live)) return *status;
  if (auto status = run_calibrate_command(*calibrate)) return *status;
  if (auto status = run_forecast_command(*forecast)) return *status;
  return kBadInput;  // require_subcommand(1) makes this unreachable
}

}  // namespace stepq
