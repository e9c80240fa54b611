// The simulate report's links (issue 16): the "Links" section and the lead's sentence on the
// busiest link, from simulate's result (`links`, `timeline.links`) and the scenario's routes. Both
// give nothing when the result has no links, so a page without them is the same as before.
// Also the words for where a data kind's replicas are, which `stepq validate` prints too.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "html_page.hpp"

namespace stepq {

// For the lead paragraph: the busiest link and the FTS wait ("" when the result has no links).
std::string link_reading(const nlohmann::ordered_json& result);
// The routes bytes take, a table of the links (bandwidth, cap, transfers, throughput,
// utilisation, transfer time, FTS wait, queue), the leases' renewals when the result has
// `leases`, and the charts over time.
void link_section(HtmlPage& p, const Scenario& sc, const nlohmann::ordered_json& result);

// "cavern 60% (local) | se-near or se-far 30% | se-far 10%": each replica set with its chance,
// "(local)" where a replica is at `to` (located and bind-mounted, nothing moves). One set has no
// chance to show. Plain text (escape it for HTML).
std::string replicas_text(const std::vector<ReplicaChoice>& choices, const std::string& to);

}  // namespace stepq
