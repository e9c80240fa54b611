// The reports in a real browser: headless Chromium (Debian's `chromium`) opens each report from a
// file:// URL with the network disabled, and the test checks that every chart drew an SVG with
// marks in it and that the page met no error; then it saves a screenshot of each report to
// STEPQ_ARTIFACT_DIR. One simulate report is of a scenario with clusters (tests/report/clusters.json),
// for the start-up split and the cluster charts; one of scenarios/srcnet-async.json with a narrow,
// capped link, for the link charts with transfers waiting. Two deliberately broken pages (a chart
// spec Vega-Lite rejects, a console.error) must be caught, so the checks are known to bite.
//
// Why --dump-dom rather than the DevTools protocol or puppeteer: the page itself records what
// happened (body data-* attributes and #page-errors, reports/html_page.hpp), so the serialized
// DOM after a virtual-time budget says everything; no Node.js or WebSocket client is needed.
#include <catch2/catch.hpp>

#include <regex>

#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {

std::string chromium() {
  if (const char* c = std::getenv("STEPQ_CHROMIUM")) return c;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

// One headless Chromium run with a fresh profile and no network: proxies to a closed port and
// every host name unresolvable, besides the page's own Content-Security-Policy.
Result browse(const TempDir& d, const std::string& html, const std::vector<std::string>& extra) {
  static int n = 0;
  const std::string profile = d / ("profile" + std::to_string(n++));
  std::vector<std::string> args = {"/usr/bin/timeout",
                                   "120",
                                   chromium(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + profile,
                                   "--proxy-server=socks5://127.0.0.1:9",
                                   "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--virtual-time-budget=15000",
                                   "--window-size=1000,1200",
                                   "--hide-scrollbars"};
  for (const auto& e : extra) args.push_back(e);
  args.push_back("file://" + html);
  return run_program(args, d.path, 180);
}

struct Rendered {
  std::map<std::string, std::string> body;  // data-* attributes of <body>
  std::string dom, errors;
};

Rendered render(const TempDir& d, const std::string& html) {
  auto r = browse(d, html, {"--dump-dom"});
  INFO(r.err.substr(0, 4000));
  REQUIRE(r.status == 0);
  Rendered out;
  out.dom = r.out;
  // The libraries in <head> hold "<body" and "</head>" in strings: the real tag is the one
  // right before the page's <main>.
  const auto b = out.dom.rfind("<body", out.dom.find("<main>"));
  REQUIRE(b != std::string::npos);
  const std::string tag = out.dom.substr(b, out.dom.find('>', b) - b);
  static const std::regex attr("data-([a-z]+)=\"([^\"]*)\"");
  for (std::sregex_iterator it(tag.begin(), tag.end(), attr), end; it != end; ++it) out.body[(*it)[1]] = (*it)[2];
  const auto e = out.dom.find("<pre id=\"page-errors\"");
  if (e != std::string::npos) out.errors = out.dom.substr(e, out.dom.find("</pre>", e) - e);
  return out;
}

// The ids of the charts whose container holds no SVG, or an SVG without a non-empty data mark.
std::vector<std::string> blank_charts(const Rendered& r, const ordered_json& specs) {
  static const std::regex mark("<g class=\"mark-[a-z]+ role-mark[^\"]*\"[^>]*><(path|line|text|rect)");
  std::vector<std::string> blank;
  for (const auto& [id, spec] : specs.items()) {
    const auto at = r.dom.find("id=\"" + id + "\"");
    if (at == std::string::npos) {
      blank.push_back(id);
      continue;
    }
    auto next = r.dom.find("<div class=\"chart ", at);
    if (next == std::string::npos) next = r.dom.find("</main>", at);
    const std::string part = r.dom.substr(at, next - at);
    if (part.find("<svg") == std::string::npos || !std::regex_search(part, mark)) blank.push_back(id);
  }
  return blank;
}

// Width and height from a PNG's IHDR chunk.
std::pair<int, int> png_size(const std::string& png) {
  REQUIRE(png.size() > 24);
  REQUIRE(png.substr(1, 3) == "PNG");
  auto be = [&](std::size_t o) {
    return (static_cast<unsigned char>(png[o]) << 24) | (static_cast<unsigned char>(png[o + 1]) << 16) |
           (static_cast<unsigned char>(png[o + 2]) << 8) | static_cast<unsigned char>(png[o + 3]);
  };
  return {static_cast<int>(be(16)), static_cast<int>(be(20))};
}

void check_report(const TempDir& d, const std::string& file, const std::string& shot) {
  const std::string html = d / file;
  const auto specs = embedded(slurp(html), "specs");
  REQUIRE(specs.size() >= 2);
  const Rendered r = render(d, html);
  INFO(file << ": " << r.errors);
  CHECK(r.body.at("status") == "done");
  CHECK(r.body.at("charts") == std::to_string(specs.size()));
  CHECK(r.body.at("failed") == "0");
  CHECK(r.body.at("errors") == "0");
  CHECK(r.body.at("resources") == "0");  // nothing was fetched: the page is self-contained
  CHECK(blank_charts(r, specs).empty());

  // The screenshot, as tall as the page: the artifact a person looks at.
  const int height = std::stoi(r.body.at("height"));
  std::filesystem::create_directories(STEPQ_ARTIFACT_DIR);
  const std::string png = std::string(STEPQ_ARTIFACT_DIR) + "/" + shot;
  std::filesystem::remove(png);
  auto s = browse(d, html, {"--window-size=1000," + std::to_string(height), "--screenshot=" + png});
  REQUIRE(s.status == 0);
  const auto [w, h] = png_size(slurp(png));
  CHECK(w == 1000);
  CHECK(h == height);
  CHECK(std::filesystem::file_size(png) > 50'000);  // charts, not a blank page
}

}  // namespace

TEST_CASE(
    "browser: every chart of the simulate, tune, live and forecast reports renders in headless Chromium, without "
    "errors",
    "[browser]") {
  INFO("headless Chromium is needed: apt-get install chromium (scripts/setup.sh does), or set STEPQ_CHROMIUM");
  REQUIRE_FALSE(chromium().empty());
  // Made once for all sections (Catch runs the test case again for each).
  static TempDir d;
  static bool made = false;
  if (!made) {
    REQUIRE(run_stepq({"simulate", source("scenarios/skaha-basic.json"), "--sessions", "5000", "-q", "--report",
                       "simulate.html", "--trace", "t"},
                      d.path)
                .status == 0);
    REQUIRE(run_stepq({"simulate", source("tests/report/clusters.json"), "--sessions", "5000", "-q", "--report",
                       "clusters.html"},
                      d.path)
                .status == 0);
    REQUIRE(run_stepq({"simulate", source("scenarios/srcnet-async.json"), "--sessions", "300", "--set",
                       "/platform/links/0/bandwidth_MBps=30", "--set", "/platform/links/0/max_active=1", "-q",
                       "--report", "links.html"},
                      d.path)
                .status == 0);
    REQUIRE(run_stepq(
                {"tune", source("scenarios/mm4.json"), "--target", "wait.p95=1", "--sessions", "3000", "--replications",
                 "2", "--verify-replications", "2", "--rates", "0.5,1,1.2", "-q", "--report", "tune.html"},
                d.path)
                .status == 0);
    REQUIRE(run_stepq({"live", "init", "--db", "sqlite:l.db", "-q"}, d.path).status == 0);
    REQUIRE(
        run_stepq({"live", "submit", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--sessions", "200", "-q"},
                  d.path)
            .status == 0);
    REQUIRE(run_stepq({"live", "run", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--time-scale", "0.002",
                       "--until-idle", "-q"},
                      d.path)
                .status == 0);
    REQUIRE(run_stepq({"live", "status", "--db", "sqlite:l.db", "--time-scale", "0.002", "-q", "--report", "live.html"},
                      d.path)
                .status == 0);
    // Sessions nobody has run yet: a forecast with a queue ahead of the new one.
    REQUIRE(run_stepq({"live", "submit", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--sessions", "40", "-q"},
                      d.path)
                .status == 0);
    REQUIRE(run_stepq({"forecast", "--db", "sqlite:l.db", "--scenario", source("scenarios/mm4.json"), "-r", "20", "-q",
                       "--report", "forecast.html"},
                      d.path)
                .status == 0);

    made = true;
  }

  SECTION("simulate") { check_report(d, "simulate.html", "report-simulate.png"); }
  SECTION("simulate with clusters") {
    const auto specs = embedded(slurp(d / "clusters.html"), "specs");
    for (const char* id : {"startup-split", "cluster-cores-over-time", "cluster-memory-over-time",
                           "cluster-queue-over-time", "cluster-refused-over-time"})
      CHECK(specs.contains(id));
    check_report(d, "clusters.html", "report-clusters.png");
  }
  SECTION("simulate with links") {
    const auto specs = embedded(slurp(d / "links.html"), "specs");
    for (const char* id : {"link-queue-over-time", "link-throughput-over-time"}) CHECK(specs.contains(id));
    check_report(d, "links.html", "report-links.png");
  }
  SECTION("tune") { check_report(d, "tune.html", "report-tune.png"); }
  SECTION("live status") { check_report(d, "live.html", "report-live.png"); }
  SECTION("forecast") {
    const std::string html = slurp(d / "forecast.html");
    CHECK(embedded(html, "specs").contains("forecast-fan"));
    CHECK(embedded(html, "result")["in_startup"] == 40);
    check_report(d, "forecast.html", "report-forecast.png");
  }

  SECTION("a chart Vega-Lite cannot draw is caught") {
    std::string html = slurp(d / "simulate.html");
    const std::string good = "\"mark\":{\"type\":\"rect\"";
    const auto at = html.find(good, html.find("id=\"specs\""));
    REQUIRE(at != std::string::npos);
    html.replace(at, good.size(), "\"mark\":{\"type\":\"no-such-mark\"");
    std::ofstream(d / "broken.html") << html;
    const auto specs = embedded(html, "specs");
    const Rendered r = render(d, d / "broken.html");
    CHECK(r.body.at("status") == "done");
    CHECK(r.body.at("failed") == "1");
    CHECK(r.body.at("errors") != "0");
    CHECK(r.errors.find("startup-histogram") != std::string::npos);
    CHECK(blank_charts(r, specs) == std::vector<std::string>{"startup-histogram"});
  }
  SECTION("an error on the console is caught") {
    std::string html = slurp(d / "simulate.html");
    html.replace(html.rfind("</body>"), 7, "<script>console.error('injected by the test')</script></body>");
    std::ofstream(d / "noisy.html") << html;
    const Rendered r = render(d, d / "noisy.html");
    CHECK(r.body.at("failed") == "0");
    CHECK(r.body.at("errors") == "1");
    CHECK(r.errors.find("injected by the test") != std::string::npos);
  }
}
