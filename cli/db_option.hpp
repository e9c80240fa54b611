// The options every command that reads a live database takes, said the same way everywhere.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace stepq {

inline void add_db_option(CLI::App* c, std::string& db) {
  c->add_option("--db", db,
                "The step database: sqlite:PATH (one file, several processes on one\n"
                "machine) or postgresql://USER@HOST/DB (processes on many machines).\n"
                "Default sqlite:stepq.db.")
      ->type_name("URL");
}

// Reading a run made with `live run --time-scale X`: durations in the log are wall seconds.
inline void add_log_time_scale_option(CLI::App* c, double& scale) {
  c->add_option("--time-scale", scale,
                "The run's --time-scale (emulated platform): wall seconds per\n"
                "scenario second, so that the log is read in scenario seconds.\n"
                "Default 1.")
      ->check(CLI::PositiveNumber);
}

}  // namespace stepq
