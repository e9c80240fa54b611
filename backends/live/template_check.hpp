// What both databases check when a scenario is bound: unfinished sessions must find their
// template in the scenario with the same steps, of the same kinds, under the same dependencies.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace stepq {
struct Scenario;
}

namespace stepq::live {

struct StoredTemplate {
  std::string name;
  long long example_session = 0;           // one unfinished session using it, for messages
  std::vector<std::string> step_kinds;     // by step number
  std::vector<std::pair<int, int>> edges;  // (step, a step it runs after)
};

// Throws StoreError naming `db` (the file or URL) and the first difference.
void check_template(const Scenario& sc, const std::string& db, StoredTemplate t);

}  // namespace stepq::live
