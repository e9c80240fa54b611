#include "plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace stepq {

Plan Plan::build(const std::vector<PlanStep>& steps, int from, int to) {
  Plan p;
  const int n = static_cast<int>(steps.size());
  if (to < 0) to = n;
  p.preds.resize(n);
  p.succs.resize(n);
  for (int i = from; i < to; ++i)
    for (int a : steps[i].after) {
      if (a < from || a >= to) throw std::invalid_argument("step '" + steps[i].id + "' waits for an unknown step");
      p.preds[i].push_back(a);
      p.succs[a].push_back(i);
    }
  std::vector<int> left(n);
  for (int i = from; i < to; ++i) {
    left[i] = static_cast<int>(p.preds[i].size());
    if (left[i] == 0) p.roots.push_back(i);
  }
  // Kahn's algorithm; what is never emitted lies on (or behind) a cycle.
  std::vector<int> ready = p.roots;
  for (std::size_t h = 0; h < ready.size(); ++h) {
    const int s = ready[h];
    p.topo.push_back(s);
    for (int t : p.succs[s])
      if (--left[t] == 0) ready.push_back(t);
  }
  if (static_cast<int>(p.topo.size()) != to - from) {
    for (int i = from; i < to; ++i)
      if (left[i] > 0) throw std::invalid_argument("steps form a cycle through '" + steps[i].id + "'");
  }
  return p;
}

double Plan::critical_path(const std::function<double(int)>& cost) const {
  std::vector<double> finish(size(), 0.0);
  double best = 0;
  for (int s : topo) {
    double start = 0;
    for (int q : preds[s]) start = std::max(start, finish[q]);
    finish[s] = start + cost(s);
    best = std::max(best, finish[s]);
  }
  return best;
}

}  // namespace stepq
