// One self-contained HTML page: text sections, Vega-Lite charts, and the result JSON it was made
// from, with the chart libraries inlined (reports/chart_js.hpp). Nothing is fetched when it is
// viewed: a Content-Security-Policy forbids every network request, so it opens offline.
//
//   HtmlPage p("stepq simulate: skaha-basic", result);
//   p.html("<p>…</p>");                        // trusted markup; escape user text with html_escape
//   p.chart("startup-hist", spec, "half");     // null specs are skipped
//   p.write("r.html");                         // throws std::runtime_error naming the file
//
// What the page tells a test (attributes of <body> once every chart has settled): data-status =
// "done", data-charts (how many), data-failed (how many did not render), data-errors (window
// errors, console.error calls, rejected promises and CSP violations, also listed in
// #page-errors), data-resources (network requests attempted), data-height (page height, px).
// The result is in <script type="application/json" id="result">, the specs in id="specs".
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stepq {

std::string html_escape(const std::string& text);

// One headline number in the page's card style (a row of them goes in <div class="cards">):
// label above, value (markup) large, note (markup) small below; cls picks a colour (p50, p95,
// p99, estimate) or none.
std::string html_card(const std::string& cls, const std::string& label, const std::string& value,
                      const std::string& note);

// Whether this binary has the chart libraries compiled in; if not, why (for an error message).
bool charts_available(std::string* why = nullptr);

class HtmlPage {
 public:
  HtmlPage(std::string title, nlohmann::ordered_json result);
  void html(const std::string& markup) { body_ += markup; }
  // size: "half" (two side by side) or "wide".
  void chart(const std::string& id, const nlohmann::ordered_json& spec, const std::string& size = "wide");
  std::string render() const;
  void write(const std::string& path) const;

 private:
  std::string title_, body_;
  nlohmann::ordered_json result_, specs_ = nlohmann::ordered_json::object();
};

}  // namespace stepq
