#include "template_check.hpp"

#include <algorithm>

#include "core/scenario.hpp"
#include "store.hpp"

namespace stepq::live {

void check_template(const Scenario& sc, const std::string& db, StoredTemplate st) {
  const std::string where = db + ": unfinished sessions (e.g. session " + std::to_string(st.example_session) +
                            ") use template '" + st.name + "'";
  const std::string hint = "; run with the scenario they were submitted from, or cancel them";
  const int t = sc.template_index(st.name);
  if (t < 0) throw StoreError(where + ", which " + sc.file + " does not define" + hint);
  const auto& tp = sc.templates[t];
  for (std::size_t n = 0; n < st.step_kinds.size(); ++n) {
    const std::string& kind = st.step_kinds[n];
    if (n >= tp.steps.size() || sc.kinds[tp.steps[n].kind].name != kind)
      throw StoreError(where + ", whose step " + std::to_string(n) + " is of kind '" + kind + "'; in " + sc.file +
                       " that step " +
                       (n >= tp.steps.size() ? std::string("does not exist")
                                             : "is of kind '" + sc.kinds[tp.steps[n].kind].name + "'") +
                       hint);
  }
  if (st.step_kinds.size() != tp.steps.size())
    throw StoreError(where + " with " + std::to_string(st.step_kinds.size()) + " steps; in " + sc.file + " it has " +
                     std::to_string(tp.steps.size()) + hint);
  auto& have = st.edges;
  std::vector<std::pair<int, int>> want;
  for (std::size_t i = 0; i < tp.steps.size(); ++i)
    for (int p : tp.preds(static_cast<int>(i))) want.emplace_back(static_cast<int>(i), p);
  std::sort(have.begin(), have.end());
  std::sort(want.begin(), want.end());
  if (have == want) return;
  auto missing_from = [](const auto& from, const auto& in) {
    for (const auto& e : from)
      if (!std::binary_search(in.begin(), in.end(), e)) return e;
    return from.front();  // not reached: sorted, unequal, and each has one the other lacks
  };
  const bool in_db = std::any_of(have.begin(), have.end(),
                                 [&](const auto& e) { return !std::binary_search(want.begin(), want.end(), e); });
  const auto [step, pred] = in_db ? missing_from(have, want) : missing_from(want, have);
  auto named = [&](int k) { return "step " + std::to_string(k) + " ('" + tp.steps[k].id + "')"; };
  throw StoreError(where + ", in which " + named(step) + (in_db ? " runs after " : " does not run after ") +
                   named(pred) + "; in " + sc.file + " it " + (in_db ? "does not" : "does") +
                   " (the dependencies differ)" + hint);
}

}  // namespace stepq::live
