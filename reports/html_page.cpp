#include "html_page.hpp"

#include <fstream>
#include <stdexcept>

#include "chart_js.hpp"

namespace stepq {

namespace {

// JSON inside <script>: "</script>" or "<!--" in a string would end or confuse the element, so
// every '<' is written as its JSON escape (only strings can hold one).
std::string script_json(const nlohmann::ordered_json& j) {
  const std::string s = j.dump();
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

// Scripts are inlined as they are; a library holding "</script" would end its element early.
std::string script_code(std::string_view code) {
  if (code.find("</script") != std::string_view::npos)
    throw std::runtime_error("a chart library contains '</script': it cannot be inlined");
  return std::string(code);
}

const char* const kStyle = R"css(
:root { --ink: #1b1f24; --muted: #5b6570; --line: #dde1e6; --bg: #f6f7f9; --accent: #08519c; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .value small { font-size: 14px; font-weight: 400; color: var(--muted); }
.card .note { color: var(--muted); font-size: 12px; line-height: 1.3; }
.card.p50 .value { color: #1f77b4; } .card.p95 .value { color: #e6550d; } .card.p99 .value { color: #d62728; }
.card.estimate .value { color: #636363; }
.lead { background: white; border-left: 4px solid var(--accent); padding: 10px 14px; margin: 14px 0 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.chart { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 8px; overflow-x: auto; }
.chart.wide { grid-column: 1 / -1; }
table { border-collapse: collapse; background: white; font-variant-numeric: tabular-nums; width: 100%; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
th:first-child, td:first-child { text-align: left; }
th.text, td.text { text-align: left; white-space: normal; }
.bad { color: #b30000; font-weight: 600; } .good { color: #1a7f37; font-weight: 600; }
#page-errors { background: #fff0f0; color: #b30000; border: 1px solid #f3b3b3; padding: 8px; white-space: pre-wrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
)css";

// First in <head>: collects every error the page meets, before any library runs.
const char* const kErrorCapture = R"js(
window.stepqErrors = [];
// Every error is shown at once, in <body data-errors> and #page-errors, also one that comes
// after the charts are drawn.
window.stepqError = function (message) {
  stepqErrors.push(message);
  var b = document.body, box = document.getElementById('page-errors');
  if (b) b.dataset.errors = stepqErrors.length;
  if (box) { box.textContent = 'This page met errors:\n' + stepqErrors.join('\n'); box.hidden = false; }
};
window.addEventListener('error', function (e) { stepqError('error: ' + (e.message || e.type)); });
window.addEventListener('unhandledrejection', function (e) { stepqError('unhandled rejection: ' + e.reason); });
document.addEventListener('securitypolicyviolation', function (e) { stepqError('blocked: ' + e.blockedURI + ' (' + e.violatedDirective + ')'); });
(function () {
  var original = console.error;
  console.error = function () {
    stepqError('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
)js";

// Last in <body>: draws every chart, then tells whoever is watching how it went.
const char* const kRender = R"js(
(function () {
  var specs = JSON.parse(document.getElementById('specs').textContent);
  var options = { renderer: 'svg', actions: false,
                  config: { font: 'system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif',
                            title: { anchor: 'start', fontSize: 14, subtitleColor: '#5b6570' },
                            view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 } } };
  var ids = Object.keys(specs);
  var done = ids.map(function (id) {
    if (typeof vegaEmbed !== 'function') return Promise.reject(new Error('vegaEmbed is not loaded'));
    return vegaEmbed('#' + id, specs[id], options).catch(function (e) {
      stepqError('chart ' + id + ': ' + (e && e.message ? e.message : e));
      throw e;
    });
  });
  // Done = every chart settled and the page loaded (scripts after this one have run).
  var loaded = new Promise(function (resolve) {
    if (document.readyState === 'complete') resolve(); else window.addEventListener('load', resolve);
  });
  Promise.allSettled(done).then(function (results) {
    return loaded.then(function () { return results; });
  }).then(function (results) {
    var b = document.body;
    b.dataset.charts = ids.length;
    b.dataset.failed = results.filter(function (r) { return r.status === 'rejected'; }).length;
    b.dataset.errors = stepqErrors.length;
    b.dataset.resources = performance.getEntriesByType('resource').length;
    b.dataset.height = Math.ceil(document.documentElement.scrollHeight);
    b.dataset.status = 'done';
  });
})();
)js";

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_card(const std::string& cls, const std::string& label, const std::string& value,
                      const std::string& note) {
  return "<div class=\"card " + cls + "\"><div class=\"label\">" + label + "</div><div class=\"value\">" + value +
         "</div><div class=\"note\">" + note + "</div></div>\n";
}

bool charts_available(std::string* why) {
  if (chart_libraries().size() == 3) return true;
  if (why)
    *why =
        "this stepq was built without the chart libraries (reports/web/node_modules was missing): run "
        "scripts/setup.sh, which runs `npm ci` in reports/web, then build again";
  return false;
}

HtmlPage::HtmlPage(std::string title, nlohmann::ordered_json result)
    : title_(std::move(title)), result_(std::move(result)) {}

void HtmlPage::chart(const std::string& id, const nlohmann::ordered_json& spec, const std::string& size) {
  if (spec.is_null()) return;
  specs_[id] = spec;
  body_ += "<div class=\"chart " + size + "\" id=\"" + html_escape(id) + "\"></div>\n";
}

std::string HtmlPage::render() const {
  std::string why;
  if (!charts_available(&why)) throw std::runtime_error(why);
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // No request may leave the page: everything it needs is inline (Vega compiles expressions
  // with the Function constructor, hence 'unsafe-eval').
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline' "
       "'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + html_escape(title_) + "</title>\n<style>" + kStyle + "</style>\n";
  h += "<script>" + std::string(kErrorCapture) + "</script>\n";
  for (const auto& lib : chart_libraries())
    h += "<script>/* " + std::string(lib.name) + " " + std::string(lib.version) + " */\n" + script_code(lib.code) +
         "\n</script>\n";
  h += "</head>\n<body>\n<main>\n<pre id=\"page-errors\" hidden></pre>\n";
  h += body_;
  std::string libs;
  for (const auto& lib : chart_libraries())
    libs += (libs.empty() ? "" : ", ") + std::string(lib.name) + " " + std::string(lib.version);
  h += "<footer>Made by stepq. Charts: " + html_escape(libs) +
       " (inlined: this file opens offline). The numbers are the run's result JSON, embedded below the charts "
       "(element <code>#result</code>).</footer>\n</main>\n";
  h += "<script type=\"application/json\" id=\"result\">" + script_json(result_) + "</script>\n";
  h += "<script type=\"application/json\" id=\"specs\">" + script_json(specs_) + "</script>\n";
  h += "<script>" + std::string(kRender) + "</script>\n</body>\n</html>\n";
  return h;
}

void HtmlPage::write(const std::string& path) const {
  const std::string text = render();
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("--report " + path + ": cannot open the file for writing");
  f << text;
  f.close();
  if (!f) throw std::runtime_error("--report " + path + ": writing the report failed");
}

}  // namespace stepq
