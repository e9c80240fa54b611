// `stepq validate SCENARIO`: checks a scenario and prints its plans (cli/validate.cpp).
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct ValidateCommand;

std::shared_ptr<ValidateCommand> add_validate_command(CLI::App& app);
// After parsing: the exit status if `validate` was chosen, nullopt otherwise.
std::optional<int> run_validate_command(ValidateCommand& c);

}  // namespace stepq
