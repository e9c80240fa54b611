// The simulate report's clusters (issue 14): the "Clusters" section and the lead's sentence on
// Pending, from simulate's result (`clusters`, `timeline.clusters`, `startup_s.split`). Both give
// nothing when the result has no clusters, so a page without them is the same as before.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "html_page.hpp"

namespace stepq {

// For the lead paragraph: the share of start-up spent Pending and the fullest cluster ("" when none).
std::string pending_reading(const nlohmann::ordered_json& result);
// Per cluster its size and limits and four cards (cores in use, Pending beside theory, the
// admission queue, refused launches); then the charts over time.
void cluster_section(HtmlPage& p, const nlohmann::ordered_json& result);

}  // namespace stepq
