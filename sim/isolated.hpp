// Runs one simulation in a child process and returns its result JSON.
//
// Why: a SimGrid engine runs once per process (its clock does not reset), so tests, replications
// and tuning candidates each get a fresh process. fork() shares the already-parsed scenario.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>

#include "simulation.hpp"

namespace stepq::sim {

// Runs `body` in a forked child and returns the JSON it returned. Throws std::runtime_error with
// the child's error message if it threw, or saying how the child died.
nlohmann::ordered_json run_in_child(const std::function<nlohmann::ordered_json()>& body);

// How many children to run at a time when `requested` were asked for (0: one per core). Each runs
// in a process forked by a thread that waits for it, so with more than one the forks come from a
// multi-threaded process, whose child POSIX allows only async-signal-safe calls; glibc makes
// malloc and thread creation work there anyway. A sanitizer's runtime does not promise it:
// ThreadSanitizer kills a child that starts a thread (SimGrid's actors are threads under a
// sanitizer). So a sanitized build runs one child at a time, forked by the calling thread.
int child_jobs(int requested);

// Calls `each()` on `jobs` threads at a time; with one, on the calling thread (so that its forks
// come from a process with no thread of stepq's own beside it). Each call takes its own work.
void run_children(int jobs, const std::function<void()>& each);

// Throws std::runtime_error with the child's error message if the simulation failed.
nlohmann::ordered_json run_isolated(const Scenario& scenario, const SimOptions& options = {});

}  // namespace stepq::sim
