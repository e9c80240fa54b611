// A session plan: a DAG of steps, created DORMANT when the session is accepted.
//
// Steps are numbered in the template's order; `preds`/`succs` hold step numbers. The roots are
// READY at accept; a step becomes READY when its last predecessor completes (activate style).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dist.hpp"

namespace stepq {

// What the `local` platform needs of a step (backends/local); the simulator ignores it.
struct LocalStep {
  std::string url;                                       // data: file://, file:RELATIVE (to the scenario), http(s)://
  std::string sha256;                                    // data: expected checksum (hex), optional
  std::optional<double> size_bytes;                      // data: expected size; storage: free space required
  std::string program;                                   // image, launch: a path or a name on PATH
  std::vector<std::string> args;                         // launch
  std::vector<std::pair<std::string, std::string>> env;  // launch
};

// How a storage or data item is mounted into the session (the seed's volume-mount modes).
//   ReadOnly    data: the staged replica is linked or bind-mounted: nothing is copied
//   WriteTemp   a copy in session-temporary space; storage: its space comes back at release
//   WriteLocal  written into the site's storage (Cavern): kept after the session (the default)
//   WriteGlobal as WriteLocal, and the item's output_bytes are pushed back at release
enum class Mount { read_only, write_temp, write_local, write_global };

// Where a dataset has replicas: one set of hosts, or one of several sets drawn per session with
// probability ∝ weight ("at the site with probability 0.6, else at these two").
struct ReplicaChoice {
  double weight = 1;
  std::vector<std::string> hosts;
};

struct PlanStep {
  std::string id;
  int kind = -1;
  std::vector<int> after;               // predecessor step numbers
  std::optional<Dist> service_s;        // overrides the kind's
  double bytes = 0;                     // transfer kinds: moved; storage with an area: reserved
  bool bytes_given = false;             // written in the scenario (a pushback's default is the output)
  std::optional<LocalStep> local;       // the `local` platform's instructions
  Mount mount = Mount::write_local;     // storage and data items
  int area = -1;                        // storage: the platform's storage area it reserves `bytes` in
  double output_bytes = 0;              // data, WriteGlobal: pushed back at release
  std::optional<Dist> bytes_dist;       // transfer items: a size drawn per session (`bytes` is its mean)
  std::vector<ReplicaChoice> replicas;  // transfer items: overrides the kind's (scenario.hpp)
  // An item written once with `"count"` is copies first_copy, first_copy + 1, …; copy ≥ the
  // count drawn for a session is absent from it (Scenario::absent).
  std::optional<Dist> count;
  int first_copy = -1, copy = 0;
};

struct Plan {
  std::vector<std::vector<int>> preds, succs;
  std::vector<int> roots;
  std::vector<int> topo;  // a topological order

  std::size_t size() const { return preds.size(); }
  // Over steps [from, to) of `steps`, whose `after` number steps of that range; the plan keeps
  // those numbers (so preds/succs/roots/topo are absolute, sized `steps`). Throws
  // std::invalid_argument naming a step on a cycle.
  static Plan build(const std::vector<PlanStep>& steps, int from = 0, int to = -1);
  // Longest path where each step costs cost(step number): the plan's total_prepare_cost.
  double critical_path(const std::function<double(int)>& cost) const;
};

}  // namespace stepq
