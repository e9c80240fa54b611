// What `stepq live status` keeps of sealed sessions (DESIGN §9, "live status in bounded memory"):
// a session that ended long enough ago never changes again, so its rows' share of the status is
// summed once and stored in the status_cache row, with the frontier that says which sessions and
// transfers it covers. status_read.cpp reads it, adds what lies beyond, and moves it on.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

namespace stepq::live {

// Which rows a summary covers: every id ≤ frontier except those in `open` (not sealed yet when
// it was written; a short list, so that one long-running session does not hold the frontier).
struct Frontier {
  std::int64_t frontier = -1;
  std::vector<std::int64_t> open;  // ascending
};

struct StatusSummary {
  Frontier sessions;          // by session id
  Frontier transfers{0, {}};  // by transfer id (ids start at 1): done transfers
  LiveStatus sealed;          // kinds as the kind table's rows, failure_reasons every reason
};

// A LiveStatus to add rows to: every phase at zero, the kinds named, the chart's series ready.
LiveStatus blank_status(const std::vector<std::string>& kind_names, double now);
// Adds `from` to `into`, both with the same kinds: counts, histograms, failure reasons by reason,
// links by name, forecasts, the chart. Not processors, READY steps or submissions (never sealed).
void merge_status(LiveStatus& into, const LiveStatus& from);
// failure_reasons holds every reason's count while parts are merged; the status shows the ten
// most frequent, ties by reason.
void keep_top_reasons(LiveStatus& st);

// The summary as stored; kind_ids: the kind table's id of each of sealed.kinds.
std::string summary_text(const StatusSummary& s, const std::vector<std::int64_t>& kind_ids);
// The summary stored, laid out on the kind table now (`kind_ids` and `kind_names` by row);
// nothing when the text is not one summary_text wrote for kinds still there (empty, corrupt,
// another version): the caller then sums every row again.
std::optional<StatusSummary> parse_summary(const std::string& text, const std::vector<std::int64_t>& kind_ids,
                                           const std::vector<std::string>& kind_names, double now);

}  // namespace stepq::live
