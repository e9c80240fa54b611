// Scenario text → validated Scenario (contract in scenario_load.hpp, format in docs/scenarios.md).
//
// The text becomes an ordered_json document first: key order in "kinds" and "pools" is meaningful
// (it numbers kinds and pools, and orders the output). --set overrides edit that document, so an
// overridden value meets exactly the checks a written one does. A Node then walks the document;
// it knows its JSON pointer, so every check can say where it failed. Checks that tie two places
// together (pools ↔ kinds, after ↔ step ids, transfer ↔ platform) report at the place the user
// would edit.
#include "scenario_load.hpp"

#include "json_node.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

namespace stepq {
namespace {

using namespace jsonc;

std::string dist_what(const char* unit) {
  return std::string("a number of ") + unit + " or a distribution {\"dist\": ...}";
}

class Loader {
 public:
  Loader(const std::string& file, const FileReader& read_file) : file_(file), read_file_(read_file) {}

  Scenario load(const Json& doc) {
    const Node root(doc, "", file_);
    root.object(
        {"name", "seed", "sessions", "duration_s", "arrivals", "dispatch", "kinds", "pools", "templates", "platform"},
        "a JSON object");
    sc_.file = file_;
    sc_.name = root["name"].present() ? root["name"].name() : std::filesystem::path(file_).stem().string();
    sc_.seed = root["seed"].present() ? root["seed"].count(false) : 1;
    const Node sessions = root["sessions"], duration = root["duration_s"];
    if (sessions.present() && duration.present())
      sessions.fail("give either \"sessions\" or \"duration_s\", not both (got both)");
    if (duration.present()) sc_.duration_s = duration.positive();
    else if (sessions.present()) sc_.sessions = sessions.count(true);
    else sessions.fail("give \"sessions\": how many arrive, or \"duration_s\": for how long they arrive (missing)");
    arrivals(root["arrivals"]);
    dispatch(root["dispatch"]);
    platform(root["platform"]);
    const bool pooled = root["pools"].present();
    kinds(root["kinds"], pooled);
    if (pooled) pools(root["pools"], root["kinds"]);
    else one_pool_per_kind();
    templates(root["templates"]);
    return std::move(sc_);
  }

 private:
  // A number of `unit` (seconds, cores, GB) or a distribution of them.
  Dist dist(const Node& n, const char* unit = "seconds") const {
    if (n.present() && n.json().is_number()) {
      if (!(n.json().get<double>() >= 0)) n.expected(std::string("a non-negative number of ") + unit);
      return Dist::constant(n.number());
    }
    if (!n.present() || !n.json().is_object()) n.expected(dist_what(unit));
    if (!n["dist"].present()) {
      // Check the keys first, so that a misspelt "dist" gets its hint.
      n.object({"dist", "value", "mean", "min", "max", "p95", "mu", "sigma", "sd", "shape", "scale", "samples",
                "components"});
    }
    const std::string type = n["dist"].choice(
        {"constant", "exponential", "uniform", "lognormal", "normal", "gamma", "weibull", "empirical", "mixture"});
    if (type == "constant") {
      n.object({"dist", "value"});
      return Dist::constant(n["value"].non_negative());
    }
    if (type == "exponential") {
      n.object({"dist", "mean"});
      return Dist::exponential(n["mean"].positive());
    }
    if (type == "uniform") {
      n.object({"dist", "min", "max"});
      const double lo = n["min"].non_negative();
      const Node max = n["max"];
      if (!(max.number() >= lo)) max.expected("a number >= min (" + fmt(lo) + ")");
      return Dist::uniform(lo, max.number());
    }
    if (type == "lognormal") {
      n.object({"dist", "mean", "p95", "mu", "sigma"});
      if (n["mean"].present() || n["p95"].present()) {
        for (const char* k : {"mu", "sigma"})
          if (n[k].present()) n[k].fail("cannot be combined with mean/p95: give {mean, p95} or {mu, sigma}");
        const double mean = n["mean"].positive();
        const Node p95 = n["p95"];
        try {
          return Dist::lognormal_mean_p95(mean, p95.positive());
        } catch (const std::invalid_argument& e) {
          p95.fail(std::string(e.what()) + " (got p95 " + fmt(p95.number()) + ", mean " + fmt(mean) + ")");
        }
      }
      if (!n["mu"].present() && !n["sigma"].present())
        n.fail("a lognormal needs {\"mean\", \"p95\"} or {\"mu\", \"sigma\"} (got neither)");
      return Dist::lognormal_mu_sigma(n["mu"].number(), n["sigma"].positive());
    }
    if (type == "normal") {
      n.object({"dist", "mean", "sd"});
      return Dist::normal(n["mean"].non_negative(), n["sd"].non_negative());
    }
    if (type == "gamma" || type == "weibull") {
      n.object({"dist", "shape", "scale"});
      const double shape = n["shape"].positive(), scale = n["scale"].positive();
      return type == "gamma" ? Dist::gamma(shape, scale) : Dist::weibull(shape, scale);
    }
    if (type == "empirical") {
      n.object({"dist", "samples"});
      const Node s = n["samples"];
      const std::size_t size = s.array("a non-empty array of seconds");
      if (size == 0) s.expected("a non-empty array of seconds");
      std::vector<double> samples;
      for (std::size_t i = 0; i < size; ++i) samples.push_back(s[i].non_negative());
      return Dist::empirical(std::move(samples));
    }
    n.object({"dist", "components"});
    const Node c = n["components"];
    const std::string what = "a non-empty array of {\"weight\", \"dist\"}";
    const std::size_t size = c.array(what);
    if (size == 0) c.expected(what);
    std::vector<double> weights;
    std::vector<Dist> parts;
    for (std::size_t i = 0; i < size; ++i) {
      c[i].object({"weight", "dist"});
      weights.push_back(c[i]["weight"].positive());
      parts.push_back(dist(c[i]["dist"], unit));
    }
    return Dist::mixture(std::move(weights), std::move(parts));
  }

  void arrivals(const Node& n) {
    n.object({"process", "rate_per_s", "file", "burst", "users"});
    ArrivalSpec& a = sc_.arrivals;
    if (n["burst"].present()) a.burst = n["burst"].count(false);
    if (const Node u = n["users"]; u.present()) a.users = users(u);
    const std::string process = n["process"].choice({"poisson", "periodic", "trace"});
    if (process == "trace") {
      a.process = ArrivalSpec::Process::trace;
      if (n["rate_per_s"].present()) n["rate_per_s"].fail("not used with trace arrivals: the file gives the times");
      a.trace_file = n["file"].name();
      a.times = trace_times(n["file"]);
    } else {
      a.process = process == "poisson" ? ArrivalSpec::Process::poisson : ArrivalSpec::Process::periodic;
      if (n["file"].present()) n["file"].fail("only used with \"process\": \"trace\"");
      a.rate_per_s = n["rate_per_s"].positive();
    }
  }

  // {"count": N, "popularity": "uniform" | {"zipf": s}}: who sessions belong to.
  static UsersSpec users(const Node& n) {
    n.object({"count", "popularity"});
    UsersSpec u;
    constexpr std::uint64_t kMostUsers = 10'000'000;
    u.count = n["count"].count(true);
    if (u.count > kMostUsers) n["count"].fail("at most 10,000,000 users (got " + std::to_string(u.count) + ")");
    const Node p = n["popularity"];
    if (!p.present() || (p.json().is_string() && p.json() == "uniform")) return u;
    if (!p.json().is_object()) p.expected("\"uniform\" or {\"zipf\": s} (s > 0: user k submits ∝ 1/k^s)");
    p.object({"zipf"});
    u.zipf_s = p["zipf"].positive();
    u.cdf.resize(u.count);
    double total = 0;
    for (std::uint64_t k = 0; k < u.count; ++k) u.cdf[k] = total += std::pow(static_cast<double>(k + 1), -u.zipf_s);
    for (auto& c : u.cdf) c /= total;
    u.cdf.back() = 1.0;
    return u;
  }

  // One arrival time per line; the first line may be a header; blank lines are skipped.
  std::vector<double> trace_times(const Node& file) const {
    const std::string name = file.string();
    if (!read_file_) file.fail("cannot read '" + name + "': no file reader was given");
    std::string text;
    try {
      text = read_file_(name);
    } catch (const std::exception& e) {
      file.fail(e.what());
    }
    std::vector<double> times;
    std::istringstream in(text);
    std::string line;
    bool first = true;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      const auto b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos) continue;
      const std::string_view v = std::string_view(line).substr(b, line.find_last_not_of(" \t\r") - b + 1);
      const std::string where = name + " line " + std::to_string(line_no) + ": ";
      double t = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
      const bool numeric = ec == std::errc() && end == v.data() + v.size() && std::isfinite(t);
      const bool header = first && !numeric;
      first = false;
      if (header) continue;
      if (!numeric)
        file.fail(where + "must be an arrival time in seconds (got \"" + std::string(v.substr(0, 40)) + "\")");
      if (t < 0) file.fail(where + "must be a non-negative time (got " + std::string(v) + ")");
      if (!times.empty() && t < times.back())
        file.fail(where + "times must not decrease (got " + std::string(v) + " after " + fmt(times.back()) + ")");
      times.push_back(t);
    }
    if (times.empty()) file.fail(name + ": contains no arrival times");
    return times;
  }

  void dispatch(const Node& n) {
    if (!n.present()) return;
    n.object({"mode", "poll_interval_s", "claim_s", "dependencies", "recheck_s"});
    DispatchSpec& d = sc_.dispatch;
    if (n["mode"].present())
      d.mode = n["mode"].choice({"notify", "poll"}) == "poll" ? DispatchSpec::Mode::poll : DispatchSpec::Mode::notify;
    d.poll_interval_s = or_default(n["poll_interval_s"], &Node::positive, d.poll_interval_s);
    d.claim_s = or_default(n["claim_s"], &Node::non_negative, d.claim_s);
    if (n["dependencies"].present())
      d.dependencies = n["dependencies"].choice({"activate", "recheck"}) == "recheck"
                           ? DispatchSpec::Dependencies::recheck
                           : DispatchSpec::Dependencies::activate;
    d.recheck_s = or_default(n["recheck_s"], &Node::positive, d.recheck_s);
  }

  // A step's "local": {...}, what the `local` platform does for it (backends/local). Each op
  // reads only its own keys, so a key meant for another op (a "url" on a launch step) is named.
  static LocalStep local_step(const Node& n, const KindSpec& kind) {
    n.object({"url", "sha256", "size_bytes", "program", "args", "env"});
    std::vector<std::string> keys;
    switch (kind.op) {
      case Op::image: keys = {"program"}; break;
      case Op::storage: keys = {"size_bytes"}; break;
      case Op::data: keys = {"url", "sha256", "size_bytes"}; break;
      case Op::launch: keys = {"program", "args", "env"}; break;
      default:
        n.fail("only for kinds with op \"image\", \"storage\", \"data\" or \"launch\" (kind '" + kind.name +
               "' has op \"" + std::string(to_string(kind.op)) + "\")");
    }
    for (const auto& item : n.json().items())
      if (item.key() != "comment" && std::find(keys.begin(), keys.end(), item.key()) == keys.end())
        n[item.key()].fail("not read by op \"" + std::string(to_string(kind.op)) + "\" (kind '" + kind.name +
                           "'); keys for this op: " + join(keys));
    const auto required = [&](const char* key) {
      if (!n[key].present()) n[key].fail("required for op \"" + std::string(to_string(kind.op)) + "\" (missing)");
    };
    LocalStep l;
    if (kind.op == Op::data) required("url");
    if (kind.op == Op::image || kind.op == Op::launch) required("program");
    if (const Node u = n["url"]; u.present()) {
      l.url = u.name();
      if (l.url.rfind("file:", 0) != 0 && l.url.rfind("http://", 0) != 0 && l.url.rfind("https://", 0) != 0)
        u.fail("must start with file:, http:// or https:// (got \"" + l.url + "\")");
      if (l.url == "file:" || l.url == "file://") u.fail("names no file (got \"" + l.url + "\")");
    }
    if (const Node h = n["sha256"]; h.present()) {
      l.sha256 = h.name();
      if (l.sha256.size() != 64 || l.sha256.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        h.fail("must be 64 hexadecimal digits (got \"" + l.sha256 + "\")");
      for (auto& ch : l.sha256) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    // A byte count: a whole number (1e6 is one), compared exactly with what arrived.
    if (const Node b = n["size_bytes"]; b.present()) l.size_bytes = static_cast<double>(b.count(false));
    if (const Node p = n["program"]; p.present()) l.program = p.name();
    if (const Node a = n["args"]; a.present())
      for (std::size_t i = 0, m = a.array("an array of strings"); i < m; ++i) l.args.push_back(a[i].string());
    if (const Node e = n["env"]; e.present()) {
      if (!e.json().is_object()) e.expected("an object of NAME: \"value\" strings");
      for (const auto& k : e.names()) {
        if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos)
          e[k].fail("not a valid environment variable name (empty, or contains '=')");
        l.env.emplace_back(k, e[k].string());
      }
    }
    return l;
  }

  void platform(const Node& n) {
    if (!n.present()) return;
    n.object({"hosts", "links", "routes", "local", "clusters", "storage"});
    if (const Node loc = n["local"]; loc.present()) {
      loc.object({"root"});
      if (loc["root"].present()) sc_.platform.local_root = loc["root"].name();
    }
    if (const Node c = n["clusters"]; c.present()) clusters(c);
    if (const Node a = n["storage"]; a.present()) storage_areas(a);
    auto& hosts = sc_.platform.hosts;
    const Node h = n["hosts"];
    if (!h.present() && !n["links"].present()) {
      if (n["routes"].present()) n["routes"].fail("routes are made of /platform/links, and there are none");
      return;  // no network to model
    }
    for (std::size_t i = 0, size = h.array("an array of host names"); i < size; ++i) {
      const std::string name = h[i].name();
      if (std::find(hosts.begin(), hosts.end(), name) != hosts.end())
        h[i].fail("host '" + name + "' is declared twice");
      hosts.push_back(name);
    }
    const Node l = n["links"];
    if (!l.present()) {
      if (n["routes"].present()) n["routes"].fail("routes are made of /platform/links, and there are none");
      return;
    }
    auto& routes = sc_.platform.routes;
    for (std::size_t i = 0, size = l.array(); i < size; ++i) {
      const Node link = l[i];
      link.object({"name", "from", "to", "bandwidth_MBps", "latency_s", "max_active"});
      LinkSpec s;
      s.name = link["name"].name();
      for (const auto& other : sc_.platform.links)
        if (other.name == s.name) link["name"].fail("link '" + s.name + "' is declared twice");
      if (link["from"].present() != link["to"].present())
        link.fail(
            "give both \"from\" and \"to\" (a link that is a route of its own) or neither (a hop of "
            "/platform/routes)");
      s.bandwidth_Bps = link["bandwidth_MBps"].positive() * 1e6;
      s.latency_s = or_default(link["latency_s"], &Node::non_negative, s.latency_s);
      if (const Node m = link["max_active"]; m.present()) s.max_active = m.positive_int();
      const int index = static_cast<int>(sc_.platform.links.size());
      if (link["from"].present()) {
        s.from = hosts[link["from"].reference(hosts, "host")];
        s.to = hosts[link["to"].reference(hosts, "host")];
        if (s.from == s.to) link["to"].fail("a link joins two different hosts (got '" + s.to + "' twice)");
        if (sc_.platform.route_between(s.from, s.to) >= 0)
          link.fail("a link between '" + s.from + "' and '" + s.to + "' is already declared");
        routes.push_back({s.from, s.to, {index}, s.latency_s, s.bandwidth_Bps});
      }
      sc_.platform.links.push_back(s);
    }
    const Node r = n["routes"];
    if (!r.present()) return;
    std::vector<std::string> link_names;
    for (const auto& x : sc_.platform.links) link_names.push_back(x.name);
    const std::string what = "an array of routes {\"from\": HOST, \"to\": HOST, \"links\": [LINK, ...]}";
    for (std::size_t i = 0, size = r.array(what); i < size; ++i) {
      const Node route = r[i];
      route.object({"from", "to", "links"});
      RouteSpec rs;
      rs.from = hosts[route["from"].reference(hosts, "host")];
      rs.to = hosts[route["to"].reference(hosts, "host")];
      if (rs.from == rs.to) route["to"].fail("a route joins two different hosts (got '" + rs.to + "' twice)");
      if (const int other = sc_.platform.route_between(rs.from, rs.to); other >= 0)
        route.fail(
            "'" + rs.from + "' and '" + rs.to + "' are already joined (" +
            (routes[other].links.size() == 1 && sc_.platform.links[routes[other].links[0]].from == routes[other].from
                 ? "by link '" + sc_.platform.links[routes[other].links[0]].name + "'"
                 : std::string("by an earlier route")) +
            "): a pair of hosts has one route");
      const Node hops = route["links"];
      const std::size_t m = hops.array("a non-empty array of link names (/platform/links)");
      if (m == 0) hops.expected("a non-empty array of link names (/platform/links)");
      for (std::size_t j = 0; j < m; ++j) {
        const int k = hops[j].reference(link_names, "link");
        if (std::find(rs.links.begin(), rs.links.end(), k) != rs.links.end())
          hops[j].fail("link '" + link_names[k] + "' is listed twice");
        rs.links.push_back(k);
        const LinkSpec& hop = sc_.platform.links[k];
        rs.latency_s += hop.latency_s;
        rs.bottleneck_Bps = j == 0 ? hop.bandwidth_Bps : std::min(rs.bottleneck_Bps, hop.bandwidth_Bps);
      }
      routes.push_back(rs);
    }
  }

  void clusters(const Node& n) {
    const std::string what =
        "an object of clusters, name -> {\"nodes\", \"admission\", \"user_limit\", \"max_pending_s\"}";
    if (!n.json().is_object()) n.expected(what);
    for (const auto& name : n.names()) {
      const Node c = n[name];
      c.object({"nodes", "admission", "user_limit", "max_pending_s"});
      ClusterSpec cl;
      cl.name = name;
      const Node nodes = c["nodes"];
      const std::string nodes_what = "a non-empty array of node groups {\"count\", \"cores\", \"memory_GB\"}";
      const std::size_t size = nodes.array(nodes_what);
      if (size == 0) nodes.fail("a cluster with no nodes can run no session: give at least one node group");
      for (std::size_t i = 0; i < size; ++i) {
        nodes[i].object({"count", "cores", "memory_GB"});
        NodeGroup g;
        g.count = nodes[i]["count"].present() ? static_cast<int>(nodes[i]["count"].count(false)) : 1;
        g.cores = nodes[i]["cores"].positive();
        g.memory_GB = nodes[i]["memory_GB"].positive();
        cl.nodes.push_back(g);
      }
      if (cl.node_count() == 0) nodes.fail("a cluster with no nodes can run no session: every group has count 0");
      if (cl.node_count() > 100000) nodes.fail("at most 100,000 nodes (got " + std::to_string(cl.node_count()) + ")");
      if (c["admission"].present())
        cl.admission = c["admission"].choice({"fifo", "backfill"}) == "fifo" ? ClusterSpec::Admission::fifo
                                                                             : ClusterSpec::Admission::backfill;
      cl.max_pending_s = or_default(c["max_pending_s"], &Node::positive, cl.max_pending_s);
      if (const Node u = c["user_limit"]; u.present()) {
        cl.user_limit = u.positive_int();
        if (!sc_.arrivals.users)
          u.fail("needs /arrivals/users (who the sessions belong to): without it every session is one user's");
      }
      sc_.platform.clusters.push_back(cl);
    }
  }

  void storage_areas(const Node& n) {
    const std::string what = "an object of storage areas, name -> {\"quota_bytes\", \"when_full\", \"recheck_s\"}";
    if (!n.json().is_object()) n.expected(what);
    for (const auto& name : n.names()) {
      const Node a = n[name];
      a.object({"quota_bytes", "when_full", "recheck_s", "max_wait_s"});
      StorageArea area;
      area.name = name;
      area.quota_bytes = a["quota_bytes"].positive();
      if (a["when_full"].present())
        area.when_full = a["when_full"].choice({"fail", "wait"}) == "fail" ? StorageArea::WhenFull::fail
                                                                           : StorageArea::WhenFull::wait;
      for (const char* k : {"recheck_s", "max_wait_s"})
        if (a[k].present() && area.when_full != StorageArea::WhenFull::wait)
          a[k].fail("only with \"when_full\": \"wait\"");
      area.recheck_s = or_default(a["recheck_s"], &Node::positive, area.recheck_s);
      area.max_wait_s = or_default(a["max_wait_s"], &Node::positive, area.max_wait_s);
      sc_.platform.areas.push_back(area);
    }
  }

  // "replicas": [HOST, ...] (one set) or [{"weight": W, "hosts": [HOST, ...]}, ...] (one set drawn
  // per session). Every host must reach `to`, where a replica is local.
  std::vector<ReplicaChoice> replicas(const Node& n, const std::string& to) const {
    const std::string what = "a non-empty array of hosts, or of {\"weight\", \"hosts\"} choices";
    const std::size_t size = n.array(what);
    if (size == 0) n.expected(what);
    const auto& hosts = sc_.platform.hosts;
    const auto host_list = [&](const Node& list, std::vector<std::string>& out) {
      for (std::size_t i = 0, m = list.array("a non-empty array of hosts"); i < m; ++i) {
        const std::string h = hosts[list[i].reference(hosts, "host")];
        if (std::find(out.begin(), out.end(), h) != out.end()) list[i].fail("host '" + h + "' is listed twice");
        if (h != to && sc_.platform.route_between(h, to) < 0)
          list[i].fail("no link or route from '" + h + "' to '" + to +
                       "' (where the data goes) in /platform/links "
                       "or /platform/routes");
        out.push_back(h);
      }
      if (out.empty()) list.expected("a non-empty array of hosts");
    };
    std::vector<ReplicaChoice> out;
    if (n[0].json().is_string()) {
      out.emplace_back();
      host_list(n, out.back().hosts);
      return out;
    }
    for (std::size_t i = 0; i < size; ++i) {
      n[i].object({"weight", "hosts"}, "{\"weight\", \"hosts\"} (or write every entry as a host name)");
      ReplicaChoice c;
      c.weight = n[i]["weight"].positive();
      host_list(n[i]["hosts"], c.hosts);
      out.push_back(std::move(c));
    }
    return out;
  }

  void kinds(const Node& n, bool pooled) {
    const std::string what = "an object of step kinds, name -> {\"service_s\", ...}";
    if (!n.present() || !n.json().is_object()) n.expected(what);
    const std::vector<std::string> names = n.names();
    if (names.empty()) n.expected(what);
    for (const auto& name : names) sc_.kinds.push_back(kind(n[name], name, pooled));
  }

  KindSpec kind(const Node& n, const std::string& name, bool pooled) {
    n.object({"op", "threads", "service_s", "retry", "poll", "transfer", "rule", "prepare_cost_s"});
    KindSpec k;
    k.name = name;
    const Node poll = n["poll"];
    if (n["op"].present()) {
      const std::string op = n["op"].choice(
          {"work", "image", "storage", "data", "launch", "poll", "delete", "cleanup", "pushback", "extend"});
      for (Op o : {Op::work, Op::image, Op::storage, Op::data, Op::launch, Op::poll, Op::remove, Op::cleanup,
                   Op::pushback, Op::extend})
        if (to_string(o) == op) k.op = o;
    } else {
      k.op = poll.present() ? Op::poll : Op::work;
    }

    const Node threads = n["threads"];
    if (pooled && threads.present())
      threads.fail("not allowed when \"pools\" is given: set the threads of the kind's pool (got " +
                   shown(threads.json()) + ")");
    if (!pooled) threads_.push_back(threads.positive_int());

    k.service_s = k.op == Op::poll && !n["service_s"].present() ? Dist::constant(0) : dist(n["service_s"]);

    if (const Node r = n["retry"]; r.present()) {
      r.object({"max_attempts", "failure_probability", "backoff_s", "backoff_factor"});
      k.retry.max_attempts = or_default(r["max_attempts"], &Node::positive_int, k.retry.max_attempts);
      k.retry.failure_probability =
          or_default(r["failure_probability"], &Node::probability, k.retry.failure_probability);
      k.retry.backoff_s = or_default(r["backoff_s"], &Node::non_negative, k.retry.backoff_s);
      k.retry.backoff_factor = r["backoff_factor"].present() ? r["backoff_factor"].at_least(1) : k.retry.backoff_factor;
    }

    const std::string op_is = " (this kind's op is \"" + std::string(to_string(k.op)) + "\")";
    if (k.op == Op::poll) {
      if (!poll.present())
        poll.fail(
            "required for op \"poll\": {\"interval_s\": ..., \"ready_after_s\": ...} or {\"interval_s\": ..., "
            "\"watch\": \"rules\"} (missing)");
      poll.object({"interval_s", "ready_after_s", "watch"});
      PollSpec ps{poll["interval_s"].positive(), Dist::constant(0)};
      if (const Node w = poll["watch"]; w.present()) {
        w.choice({"rules"});
        ps.watch_rules = true;
        if (poll["ready_after_s"].present())
          poll["ready_after_s"].fail("not with \"watch\": \"rules\": the rules' transfers decide when it is ready");
      } else {
        ps.ready_after_s = dist(poll["ready_after_s"]);
      }
      k.poll = ps;
    } else if (poll.present()) {
      poll.fail("only allowed with op \"poll\"" + op_is);
    }

    if (k.op == Op::pushback && !n["transfer"].present())
      n["transfer"].fail(
          "required for op \"pushback\": {\"from\": HOST, \"to\": HOST}, where the output goes (missing)");
    if (const Node t = n["transfer"]; t.present()) {
      if (k.op != Op::data && k.op != Op::work && k.op != Op::pushback)
        t.fail("only allowed with op \"data\", \"pushback\" or \"work\"" + op_is);
      t.object({"from", "to", "replicas"});
      const auto& hosts = sc_.platform.hosts;
      TransferSpec ts;
      const Node r = t["replicas"];
      if (r.present() && t["from"].present()) t["from"].fail("give \"from\" or \"replicas\", not both");
      if (!r.present()) ts.from = hosts[t["from"].reference(hosts, "host")];
      ts.to = hosts[t["to"].reference(hosts, "host")];
      if (r.present()) {
        if (k.op != Op::data) r.fail("only for op \"data\": where the datasets have replicas" + op_is);
        ts.replicas = replicas(r, ts.to);
      } else {
        if (ts.from == ts.to) t["to"].fail("the same host as \"from\" ('" + ts.to + "'): nothing would move");
        if (sc_.platform.route_between(ts.from, ts.to) < 0)
          t.fail("no link or route between '" + ts.from + "' and '" + ts.to +
                 "' in /platform/links or /platform/routes");
      }
      k.transfer = ts;
    }
    if (const Node r = n["rule"]; r.present()) {
      if (k.op != Op::data || !k.transfer)
        r.fail("only for op \"data\" kinds with a \"transfer\": the rule moves their bytes" + op_is);
      r.object({"delay_s"});
      k.rule = RuleSpec{r["delay_s"].present() ? dist(r["delay_s"]) : Dist::constant(0)};
    }

    if (const Node p = n["prepare_cost_s"]; p.present()) k.prepare_cost_s = p.non_negative();
    return k;
  }

  void pools(const Node& n, const Node& kinds_node) {
    const std::string what = "an object of pools, name -> {\"threads\", \"kinds\"}";
    if (!n.json().is_object()) n.expected(what);
    const std::vector<std::string> names = n.names();
    if (names.empty()) n.expected(what);
    std::vector<std::string> kind_names;
    for (const auto& k : sc_.kinds) kind_names.push_back(k.name);
    for (const auto& name : names) {
      const Node p = n[name];
      p.object({"threads", "kinds"});
      PoolSpec pool;
      pool.name = name;
      pool.threads = p["threads"].positive_int();
      const Node ks = p["kinds"];
      const std::size_t size = ks.array("a non-empty array of kind names");
      if (size == 0) ks.expected("a non-empty array of kind names");
      const int index = static_cast<int>(sc_.pools.size());
      for (std::size_t i = 0; i < size; ++i) {
        const int k = ks[i].reference(kind_names, "kind");
        if (const int other = sc_.kinds[k].pool; other >= 0)
          ks[i].fail("kind '" + kind_names[k] + "' is already in pool '" +
                     (other == index ? name : sc_.pools[other].name) + "'; a kind belongs to exactly one pool");
        sc_.kinds[k].pool = index;
        pool.kinds.push_back(k);
      }
      sc_.pools.push_back(pool);
    }
    std::vector<std::string> pool_names;
    for (const auto& p : sc_.pools) pool_names.push_back(p.name);
    for (const auto& k : sc_.kinds)
      if (k.pool < 0)
        kinds_node[k.name].fail("is in no pool: list it in the \"kinds\" of one pool (pools: " + join(pool_names) +
                                ")");
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  void one_pool_per_kind() {
    for (std::size_t i = 0; i < sc_.kinds.size(); ++i) {
      sc_.kinds[i].pool = static_cast<int>(i);
      sc_.pools.push_back(PoolSpec{sc_.kinds[i].name, threads_[i], {static_cast<int>(i)}});
    }
  }

  void templates(const Node& n) {
    const std::string what = "a non-empty array of templates {\"name\", \"steps\"}";
    const std::size_t size = n.array(what);
    if (size == 0) n.expected(what);
    for (std::size_t i = 0; i < size; ++i) {
      TemplateSpec t = template_spec(n[i]);
      for (const auto& other : sc_.templates)
        if (other.name == t.name) n[i]["name"].fail("template '" + t.name + "' is declared twice");
      sc_.templates.push_back(std::move(t));
    }
  }

  TemplateSpec template_spec(const Node& n) const {
    n.object({"name", "weight", "session", "steps", "release", "lease"});
    TemplateSpec t;
    t.name = n["name"].name();
    t.weight = or_default(n["weight"], &Node::positive, t.weight);
    const Node steps = n["steps"], release = n["release"];
    const std::string what = "a non-empty array of steps {\"id\", \"kind\", ...}";
    const std::size_t size = steps.array(what);
    if (size == 0) steps.expected(what);
    const std::size_t released =
        release.present() ? release.array("an array of release steps {\"id\", \"kind\", ...}") : 0;
    auto node_of = [&](std::size_t i) { return i < size ? steps[i] : release[i - size]; };

    // Ids first, so that "after" may name any step of its group, earlier or later. An item with a
    // "count" becomes that many steps (at most), ID#1, ID#2, …; "after": [ID] waits for all of them.
    std::vector<std::string> ids;
    std::vector<int> first(size + released + 1, 0);
    std::vector<int> copies(size + released, 1);
    for (std::size_t i = 0; i < size + released; ++i) {
      const Node s = node_of(i);
      s.object(
          {"id", "kind", "after", "service_s", "bytes", "local", "mount", "area", "output_bytes", "replicas", "count"});
      const std::string id = s["id"].name();
      if (std::find(ids.begin(), ids.end(), id) != ids.end())
        s["id"].fail("step id '" + id + "' is used twice in this template");
      ids.push_back(id);
      if (const Node c = s["count"]; c.present()) copies[i] = count_bound(c);
      first[i + 1] = first[i] + copies[i];
    }
    std::vector<std::string> kind_names;
    for (const auto& k : sc_.kinds) kind_names.push_back(k.name);

    t.startup_steps = first[size];
    for (std::size_t i = 0; i < size + released; ++i) {
      const Node s = node_of(i);
      const bool in_release = i >= size;
      PlanStep ps;
      ps.id = ids[i];
      ps.kind = s["kind"].reference(kind_names, "kind");
      const KindSpec& kind = sc_.kinds[ps.kind];
      const std::string op = "op \"" + std::string(to_string(kind.op)) + "\" (kind '" + kind.name + "')";
      if (in_release && kind.op != Op::work && !is_release_op(kind.op))
        s["kind"].fail(op +
                       " prepares a session; a release step is of op \"delete\", \"cleanup\", \"pushback\" "
                       "or \"work\"");
      if (!in_release && is_release_op(kind.op))
        s["kind"].fail(op + " gives back what a session had: put this step in \"release\"");
      if (kind.op == Op::extend)
        s["kind"].fail(op + " renews replicas while the session runs: name it in the template's \"lease\"");
      if (const Node after = s["after"]; after.present()) {
        for (std::size_t j = 0, m = after.array("an array of step ids"); j < m; ++j) {
          const int a = after[j].reference(ids, "step id");
          if (in_release && a < static_cast<int>(size))
            after[j].fail("'" + ids[a] +
                          "' is a start-up step: release begins when the session ends, after all of "
                          "them, so a release step waits only for release steps");
          if (!in_release && a >= static_cast<int>(size))
            after[j].fail("'" + ids[a] +
                          "' is a release step, which runs after the session: a start-up step "
                          "cannot wait for it");
          if (std::find(ps.after.begin(), ps.after.end(), first[a]) != ps.after.end())
            after[j].fail("step '" + ids[a] + "' is listed twice");
          for (int c = first[a]; c < first[a + 1]; ++c) ps.after.push_back(c);
        }
      }
      if (const Node d = s["service_s"]; d.present()) ps.service_s = dist(d);
      item(s, kind, ps);
      if (const Node l = s["local"]; l.present()) ps.local = local_step(l, kind);
      if (const Node c = s["count"]; c.present()) {
        if (kind.op != Op::data && kind.op != Op::storage)
          c.fail("only for storage and data items (kind '" + kind.name + "' has op \"" +
                 std::string(to_string(kind.op)) + "\")");
        if (in_release) c.fail("only for start-up items");
        ps.count = dist(c, "items");
        ps.first_copy = first[i];
        if (copies[i] == 1 && ps.count->type() == Dist::Type::constant) ps.count.reset(), ps.first_copy = -1;  // plain
      }
      if (kind.op == Op::data && ps.mount == Mount::write_global) t.output_bytes += ps.output_bytes * copies[i];
      for (int c = 0; c < copies[i]; ++c) {
        PlanStep copy = ps;
        if (copies[i] > 1) copy.id = ids[i] + "#" + std::to_string(c + 1), copy.copy = c;
        t.steps.push_back(std::move(copy));
      }
    }
    rules(steps, t);
    for (auto& ps : t.steps)  // a pushback moves the session's WriteGlobal output unless told otherwise
      if (sc_.kinds[ps.kind].op == Op::pushback && !ps.bytes_given) ps.bytes = t.output_bytes;
    try {
      t.plan = Plan::build(t.steps, 0, t.startup_steps);
    } catch (const std::invalid_argument& e) {
      steps.fail(e.what());
    }
    try {
      t.release_plan = Plan::build(t.steps, t.startup_steps);
    } catch (const std::invalid_argument& e) {
      release.fail(e.what());
    }
    if (const Node ss = n["session"]; ss.present()) t.session = session_spec(ss);
    lifecycle(n, t);
    if (const Node l = n["lease"]; l.present()) lease(l, t);
    t.total_prepare_cost_s = t.plan.critical_path([&](int s) { return sc_.prepare_cost(t.steps[s]); });
    return t;
  }

  // How many steps an item with "count" becomes: the most copies its distribution can draw
  // (rounded). Counts are whole, never negative, and bounded (each copy is a step of the plan).
  int count_bound(const Node& c) const {
    constexpr double kMostCopies = 1000;
    const Dist d = dist(c, "items");
    if (d.type() == Dist::Type::normal)
      c.fail(
          "a normal can fall below zero (stepq truncates it there, which would skew the count): use a number, "
          "uniform or empirical");
    const double most = d.upper_bound();
    if (!std::isfinite(most) || most > kMostCopies)
      c.fail("must be bounded, at most 1000 (a number, uniform, empirical or a mixture of those; got up to " +
             fmt(most) + "): every copy is a step of the plan");
    if (std::lround(most) < 1)
      c.fail("can never be 1 or more (got up to " + fmt(most) + "): the item would never exist");
    return static_cast<int>(std::lround(most));
  }

  // Asynchronous staging needs both halves: a rule's bytes are awaited by a poll that watches
  // rules, and such a poll waits for at least one rule.
  void rules(const Node& steps, const TemplateSpec& t) const {
    for (int i = 0; i < t.startup_steps; ++i) {
      const PlanStep& ps = t.steps[i];
      const KindSpec& k = sc_.kinds[ps.kind];
      if (k.rule) {
        bool watched = false;
        for (int j = 0; j < t.startup_steps; ++j)
          if (const KindSpec& o = sc_.kinds[t.steps[j].kind]; o.poll && o.poll->watch_rules)
            watched =
                watched || std::find(t.steps[j].after.begin(), t.steps[j].after.end(), i) != t.steps[j].after.end();
        if (!watched)
          steps.fail("step '" + ps.id + "' submits a rule (kind '" + k.name +
                     "'), and no step of a poll kind with "
                     "\"watch\": \"rules\" waits for it: the session would start before its data arrived");
      }
      if (k.poll && k.poll->watch_rules) {
        bool any = false;
        for (int a : ps.after) any = any || sc_.kinds[t.steps[a].kind].rule.has_value();
        if (!any)
          steps.fail("step '" + ps.id + "' (kind '" + k.name +
                     "') watches rules, and none of the steps it waits for "
                     "submits one: list a data step of a kind with \"rule\" in its \"after\"");
      }
    }
  }

  // A step's bytes, mount, area and output: what it moves, reserves and leaves behind.
  void item(const Node& s, const KindSpec& kind, PlanStep& ps) const {
    const std::string op_is = " (kind '" + kind.name + "' has op \"" + std::string(to_string(kind.op)) + "\")";
    if (const Node m = s["mount"]; m.present()) {
      if (kind.op != Op::storage && kind.op != Op::data) m.fail("only for storage and data items" + op_is);
      const std::string mode = m.choice({"ReadOnly", "WriteTemp", "WriteLocal", "WriteGlobal"});
      ps.mount = mode == "ReadOnly"     ? Mount::read_only
                 : mode == "WriteTemp"  ? Mount::write_temp
                 : mode == "WriteLocal" ? Mount::write_local
                                        : Mount::write_global;
      if (kind.op == Op::storage && ps.mount == Mount::read_only)
        m.fail("ReadOnly is for data items (a replica linked in place); a storage item is written to");
    }
    if (const Node a = s["area"]; a.present()) {
      if (kind.op != Op::storage) a.fail("only for storage items: the area whose quota they reserve from" + op_is);
      std::vector<std::string> areas;
      for (const auto& x : sc_.platform.areas) areas.push_back(x.name);
      ps.area = a.reference(areas, "storage area (/platform/storage)");
    }
    if (const Node b = s["bytes"]; b.present()) {
      if (kind.op == Op::storage) {
        if (ps.area < 0) b.fail("the space this storage item reserves, in its \"area\" (missing)");
        ps.bytes = b.non_negative();
        const StorageArea& area = sc_.platform.areas[ps.area];
        if (ps.bytes > area.quota_bytes)
          b.fail("more than area '" + area.name + "' holds in all (quota_bytes " + fmt(area.quota_bytes) +
                 "): it can never be allocated");
      } else {
        if (!kind.transfer)
          b.fail("only for kinds with a \"transfer\" (kind '" + kind.name + "' has none) and storage items");
        if (b.json().is_object()) {  // a size drawn per session
          ps.bytes_dist = dist(b, "bytes");
          ps.bytes = ps.bytes_dist->mean();
        } else {
          ps.bytes = b.non_negative();
        }
      }
      ps.bytes_given = true;
    }
    if (const Node r = s["replicas"]; r.present()) {
      if (kind.op != Op::data || !kind.transfer)
        r.fail("only for data items of a kind with a \"transfer\" (its \"to\" is where they go)" + op_is);
      ps.replicas = replicas(r, kind.transfer->to);
    }
    if (const Node o = s["output_bytes"]; o.present()) {
      if (kind.op != Op::data || ps.mount != Mount::write_global)
        o.fail("only for data items mounted \"WriteGlobal\" (their output is pushed back at release)");
      ps.output_bytes = o.non_negative();
    }
  }

  SessionSpec session_spec(const Node& n) const {
    n.object({"cluster", "cores", "memory_GB", "run_s"});
    SessionSpec s;
    if (const Node c = n["cluster"]; c.present()) {
      std::vector<std::string> names;
      for (const auto& cl : sc_.platform.clusters) names.push_back(cl.name);
      s.cluster = c.reference(names, "cluster (/platform/clusters)");
    }
    for (const char* k : {"cores", "memory_GB"})
      if (n[k].present() && s.cluster < 0) n[k].fail("what a session asks of its cluster: only with \"cluster\"");
    if (!n["run_s"].present())
      n["run_s"].fail("how long a session runs once Running, before its release steps start (missing)");
    s.run_s = dist(n["run_s"]);
    if (s.cluster < 0) return s;
    s.cores = n["cores"].present() ? dist(n["cores"], "cores") : Dist::constant(1);
    s.memory_GB = n["memory_GB"].present() ? dist(n["memory_GB"], "GB") : Dist::constant(1);
    const ClusterSpec& cl = sc_.platform.clusters[s.cluster];
    const double c = s.cores.upper_bound(), m = s.memory_GB.upper_bound();
    for (const auto& [key, v] : {std::pair{"cores", c}, std::pair{"memory_GB", m}})
      if (!std::isfinite(v))
        n[key].fail("must be bounded (a number, uniform, empirical or a mixture of those): a request must fit a node");
    double most_cores = 0, most_memory = 0;
    bool fits = false;
    for (const auto& g : cl.nodes)
      if (g.count > 0) {
        most_cores = std::max(most_cores, g.cores), most_memory = std::max(most_memory, g.memory_GB);
        fits = fits || (c <= g.cores && m <= g.memory_GB);
      }
    if (c > most_cores)
      n["cores"].fail("up to " + fmt(c) + " cores, more than any node of cluster '" + cl.name + "' has (" +
                      fmt(most_cores) + "): such a session could never be placed");
    if (m > most_memory)
      n["memory_GB"].fail("up to " + fmt(m) + " GB, more than any node of cluster '" + cl.name + "' has (" +
                          fmt(most_memory) + "): such a session could never be placed");
    if (!fits)
      n.fail("a request of " + fmt(c) + " cores and " + fmt(m) + " GB fits no single node of cluster '" + cl.name +
             "': such a session could never be placed");
    return s;
  }

  // {"kind": K (op extend), "every_s": P, "lifetime_s": L}: the lease step goes after the release
  // steps, in neither plan (the simulator makes it READY while the session runs).
  void lease(const Node& n, TemplateSpec& t) const {
    n.object({"kind", "every_s", "lifetime_s"});
    std::vector<std::string> kind_names;
    for (const auto& k : sc_.kinds) kind_names.push_back(k.name);
    LeaseSpec l;
    l.kind = n["kind"].reference(kind_names, "kind");
    if (sc_.kinds[l.kind].op != Op::extend)
      n["kind"].fail("must be a kind of op \"extend\" (kind '" + kind_names[l.kind] + "' has op \"" +
                     std::string(to_string(sc_.kinds[l.kind].op)) + "\")");
    l.lifetime_s = n["lifetime_s"].positive();
    l.every_s = n["every_s"].present() ? n["every_s"].positive() : l.lifetime_s / 2;
    if (l.every_s >= l.lifetime_s)
      n["every_s"].fail("must be shorter than lifetime_s (" + fmt(l.lifetime_s) +
                        "), or the replicas expire between "
                        "renewals (got " +
                        fmt(l.every_s) + ")");
    bool rules = false;
    for (int i = 0; i < t.startup_steps; ++i) rules = rules || sc_.kinds[t.steps[i].kind].rule.has_value();
    if (!rules) n.fail("the template stages nothing by a rule (a data kind with \"rule\"): there is no lease to renew");
    if (!t.session || !t.has_release())
      n.fail(
          "renewals run while a session runs: the template needs a \"session\" with \"run_s\" and \"release\" steps");
    PlanStep ps;
    ps.id = "lease";
    ps.kind = l.kind;
    t.lease_step = static_cast<int>(t.steps.size());
    t.steps.push_back(ps);
    t.release_plan.preds.emplace_back(), t.release_plan.succs.emplace_back();
    t.plan.preds.emplace_back(), t.plan.succs.emplace_back();
    t.lease = l;
  }

  // What a template needs so that its sessions can start and give everything back.
  void lifecycle(const Node& n, const TemplateSpec& t) const {
    int launches = 0, polls = 0, deletes = 0, pushbacks = 0, cleanups = 0;
    bool temp_space = false;
    for (std::size_t i = 0; i < t.steps.size(); ++i) {
      const Op op = sc_.kinds[t.steps[i].kind].op;
      const bool watches_rules = op == Op::poll && sc_.kinds[t.steps[i].kind].poll->watch_rules;
      launches += op == Op::launch, polls += op == Op::poll && !watches_rules, deletes += op == Op::remove;
      pushbacks += op == Op::pushback, cleanups += op == Op::cleanup;
      temp_space = temp_space || (op == Op::storage && t.steps[i].area >= 0 && t.steps[i].mount == Mount::write_temp);
    }
    const Node where = t.has_release() ? n["release"] : n;
    if (t.clustered()) {
      if (launches != 1)
        n["steps"].fail("a session on a cluster has exactly one step of op \"launch\" (found " +
                        std::to_string(launches) + ")");
      if (polls == 0)
        n["steps"].fail("a session on a cluster needs a step of op \"poll\": it is Pending until admitted");
      if (deletes == 0)
        where.fail("a session on a cluster needs a release step of op \"delete\" to give its cores back");
    }
    // Without a cluster a delete still has work to do: the session's compute lives outside the
    // model (a container, a Skaha session) and its release gives that back.
    if (t.output_bytes > 0 && pushbacks == 0)
      where.fail("WriteGlobal items leave output (output_bytes) that a release step of op \"pushback\" must move");
    if (temp_space && cleanups == 0)
      where.fail("a WriteTemp storage item in an area needs a release step of op \"cleanup\" to give the space back");
  }

  const std::string& file_;
  const FileReader& read_file_;
  Scenario sc_;
  std::vector<int> threads_;  // per kind, when there are no pools
};

void apply(Json& doc, const Override& o, const std::string& file) {
  const auto fail = [&](const std::string& what) { throw ScenarioError(file + ": --set " + o.pointer + ": " + what); };
  Json::json_pointer ptr;
  try {
    ptr = Json::json_pointer(o.pointer);
  } catch (const Json::exception&) {
    fail("not a JSON pointer (expected /key/key...; escape '~' as ~0 and '/' as ~1)");
  }
  if (ptr.empty()) fail("cannot replace the whole scenario");
  const Json::json_pointer parent_ptr = ptr.parent_pointer();
  const std::string parent_str = parent_ptr.empty() ? "the top level" : parent_ptr.to_string();
  bool exists = false;
  try {
    exists = doc.contains(parent_ptr);
  } catch (const Json::exception&) {  // an array index too large to be one
  }
  if (!exists) fail(parent_str + " does not exist");
  Json& parent = doc.at(parent_ptr);
  const std::string last = ptr.back();
  Json value = Json::accept(o.value) ? Json::parse(o.value) : Json(o.value);
  if (parent.is_object()) {
    parent[last] = std::move(value);
  } else if (parent.is_array()) {
    const bool digits =
        !last.empty() && last.find_first_not_of("0123456789") == std::string::npos && (last == "0" || last[0] != '0');
    if (last == "-") {
      parent.push_back(std::move(value));
    } else if (digits && last.size() < 10 && std::stoul(last) <= parent.size()) {
      const std::size_t i = std::stoul(last);
      if (i == parent.size()) parent.push_back(std::move(value));
      else parent[i] = std::move(value);
    } else {
      fail(parent_str + " is an array of " + std::to_string(parent.size()) +
           "; give an index up to its size, or - to append");
    }
  } else {
    fail(parent_str + " is " + shown(parent) + ", not an object or an array");
  }
}

}  // namespace

Override parse_override(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || arg.empty() || arg[0] != '/')
    throw ScenarioError("--set " + arg + ": expected /json/pointer=value, e.g. /kinds/work/threads=4");
  Override o{arg.substr(0, eq), arg.substr(eq + 1)};
  try {
    Json::json_pointer check(o.pointer);
  } catch (const Json::exception&) {
    throw ScenarioError("--set " + arg + ": not a JSON pointer (escape '~' as ~0 and '/' as ~1)");
  }
  return o;
}

Scenario parse_scenario(const std::string& text, const std::string& file, const std::vector<Override>& overrides,
                        const FileReader& read_file) {
  Json doc = parse_document(text, file);
  for (const auto& o : overrides) apply(doc, o, file);
  return Loader(file, read_file).load(doc);
}

}  // namespace stepq
