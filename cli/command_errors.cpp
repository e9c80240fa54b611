#include "cli/command_errors.hpp"

#include <sqlite3.h>

#include <iostream>

#include "backends/live/store.hpp"
#include "backends/postgres/pg.hpp"
#include "backends/sqlite/db.hpp"
#include "cli/exit_codes.hpp"
#include "core/scenario_load.hpp"

namespace stepq {

int command_error_status(const std::string& cmd) {
  try {
    throw;
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  } catch (const live::StoreError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  } catch (const sqlite::DbError& e) {
    // A file SQLite cannot use is bad input; a failure mid-run is a failed run.
    const int primary = e.code & 0xff;
    const bool damaged = primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
    std::cerr << "error: stepq " << cmd << ": " << e.what()
              << (damaged ? "; if it is the stepq database, restore it from a backup; if not, point --db at the right "
                            "file, or create a new one with `stepq live init --db sqlite:PATH`"
                          : "")
              << "\n";
    return damaged || primary == SQLITE_CANTOPEN ? kBadInput : kRunFailed;
  } catch (const pg::PgError& e) {  // what the server refused (the CLI's store calls reconnect on their own)
    std::cerr << "error: stepq " << cmd << ": " << e.what() << "\n";
    return kRunFailed;
  } catch (const std::exception& e) {  // not foreseen: a failed run, never a crash
    std::cerr << "error: stepq " << cmd << ": " << e.what() << "\n";
    return kRunFailed;
  }
}

}  // namespace stepq
