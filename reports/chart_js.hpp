// The chart libraries an HTML report inlines (vega, vega-lite, vega-embed, minified), compiled
// into the binary at build time from reports/web/node_modules (see reports/web/embed.cmake).
#pragma once
#include <span>
#include <string_view>

namespace stepq {

struct ChartLibrary {
  std::string_view name, version, code;
};

// Empty when the build found no reports/web/node_modules (then --report refuses to run).
std::span<const ChartLibrary> chart_libraries();

}  // namespace stepq
