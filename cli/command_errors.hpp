// One place that turns what a command threw into its message and exit status (exit_codes.hpp), so
// that every command that opens a database classifies the same failure the same way.
#pragma once
#include <string>

namespace stepq {

// Call inside `catch (...)`: prints "error: …" for the exception in flight and returns its exit
// status. Bad input (a scenario, an argument, a database that is not stepq's or cannot be opened)
// is kBadInput; a failure mid-run is kRunFailed. `cmd` names the command, e.g. "live run".
int command_error_status(const std::string& cmd);

}  // namespace stepq
