#include "rule_ops.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/scenario.hpp"

namespace stepq::rucio {

using jsonc::Node;
using live::external_name;
using nlohmann::json;
using Verdict = http::Outcome::Verdict;

std::string Dids::of(const std::string& step_id, std::uint64_t session) const {
  const auto it = per_step.find(step_id);
  std::string d = it != per_step.end() ? it->second : single;
  for (auto p = d.find("{session}"); p != std::string::npos; p = d.find("{session}"))
    d.replace(p, 9, std::to_string(session));
  return d;
}

Did split_did(const std::string& did) {
  const auto colon = did.find(':');
  return {did.substr(0, colon), did.substr(colon + 1)};
}

namespace {

std::string checked_did(const Node& n) {
  const std::string s = n.name();
  const auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    n.fail("must be a DID \"scope:name\" (got \"" + s + "\")");
  return s;
}

long count(const json& rule, const char* key, long fallback) {
  const auto it = rule.find(key);
  return it != rule.end() && it->is_number_integer() ? it->get<long>() : fallback;
}

// The rule a step uses among those on its key: the one it made (its comment), else one that
// someone else made (shared: Rucio allows one per key).
const json* pick(const std::vector<json>& rules, const std::string& name) {
  const json* other = nullptr;
  for (const auto& r : rules) {
    if (count(r, "copies", 1) != 1) continue;
    if (text(r, "comments") == name) return &r;
    if (!other) other = &r;
  }
  return other;
}

std::string id_of(const json& rule) { return text(rule, "id"); }

}  // namespace

Dids read_dids(const live::AdapterConfig& cfg, bool data_kind) {
  const Scenario& sc = cfg.scenario();
  Dids d;
  if (const Node one = cfg["did"]; one.present()) d.single = checked_did(one);
  if (const Node many = cfg["dids"]; many.present()) {
    std::vector<std::string> data_steps;
    for (const auto& t : sc.templates)
      for (int i = 0; i < t.startup_steps; ++i)
        if (sc.kinds[t.steps[i].kind].op == Op::data) data_steps.push_back(t.steps[i].id);
    if (!many.json().is_object()) many.expected("an object: data step id -> \"scope:name\"");
    for (const std::string& id : many.names())
      for (const auto& t : sc.templates)
        for (const auto& st : t.steps)
          if (st.id == id && sc.kinds[st.kind].op != Op::data)
            many[id].fail("step " + id + " is not a data step (its kind " + sc.kinds[st.kind].name + " has op \"" +
                          std::string(to_string(sc.kinds[st.kind].op)) + "\"): only data steps have a DID");
    many.object(data_steps, "an object: data step id -> \"scope:name\"");
    for (const std::string& id : many.names()) d.per_step[id] = checked_did(many[id]);
  }
  if (data_kind) {
    for (const auto& t : sc.templates)
      for (const auto& st : t.steps)
        if (st.kind == cfg.kind() && d.of(st.id, 0).empty())
          cfg.fail("no DID for step " + st.id + " of template " + t.name + " (give \"did\": \"scope:name\", or " +
                   "\"dids\": {\"" + st.id + "\": \"scope:name\"})");
  } else if (d.single.empty() && d.per_step.empty()) {
    cfg.fail(
        "missing \"dids\": the DIDs of the data steps whose rules this kind extends or releases (\"dids\": "
        "{step id: \"scope:name\"}, or \"did\"; in /adapters/" +
        cfg.adapter() + " every kind sees them)");
  }
  return d;
}

const std::vector<std::string>& settings_keys() {
  static const std::vector<std::string> k = {"url",          "auth_url",      "account",           "username",
                                             "password_env", "password_file", "connect_timeout_s", "total_timeout_s"};
  return k;
}

Settings read_settings(const live::AdapterConfig& cfg) {
  Settings s;
  s.url = cfg.url();
  s.auth_url = cfg["auth_url"].present() ? cfg.url("auth_url") : s.url;
  s.account = cfg["account"].name();
  s.username = cfg["username"].name();
  s.password = cfg.secret("password");
  if (s.password.empty())
    cfg.fail("missing \"password_env\" or \"password_file\": where the Rucio userpass password is");
  s.connect_timeout_s = cfg.seconds("connect_timeout_s", 10);
  s.total_timeout_s = cfg.seconds("total_timeout_s", 30);
  return s;
}

const std::vector<std::string>& rule_keys() {
  static const std::vector<std::string> k = {"rse_expression", "lifetime_s", "activity", "poll_interval_s",
                                             "max_wait_s"};
  return k;
}

RuleSettings read_rule_settings(const live::AdapterConfig& cfg, const std::string& rse_default) {
  RuleSettings r;
  const Node rse = cfg["rse_expression"];
  r.rse_expression = rse.present() ? rse.name() : rse_default;
  if (r.rse_expression.empty())
    cfg.fail("missing \"rse_expression\": the RSE expression the rules replicate to (e.g. \"SITE_A_DISK\")");
  if (const Node n = cfg["lifetime_s"]; n.present()) r.lifetime_s = static_cast<long>(std::ceil(n.positive()));
  if (const Node n = cfg["activity"]; n.present()) r.activity = n.name();
  r.poll_interval_s = cfg.seconds("poll_interval_s", r.poll_interval_s);
  r.max_wait_s = cfg.seconds("max_wait_s", r.max_wait_s);
  return r;
}

std::string RuleOps::remembered(const std::string& name) {
  std::lock_guard lk(m_);
  const auto it = ids_.find(name);
  return it == ids_.end() ? "" : it->second;
}

void RuleOps::remember(const std::string& name, const std::string& id) {
  std::lock_guard lk(m_);
  if (id.empty()) ids_.erase(name);
  else ids_[name] = id;
}

double RuleOps::waited(const std::string& name, bool done) {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lk(m_);
  const double first = first_run_.emplace(name, now).first->second;
  if (done) first_run_.erase(name);
  return now - first;
}

OpResult RuleOps::failed(const http::Outcome& o) const { return http::as_op_result(o); }

template <class F>
void RuleOps::each_data_step(const StepContext& c, F&& f) const {
  const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
  for (int i = 0; i < t.startup_steps; ++i) {
    const PlanStep& st = t.steps[i];
    const KindSpec& k = c.scenario.kinds[st.kind];
    const std::string d = k.op == Op::data ? dids_.of(st.id, c.ref.session) : "";
    if (d.empty()) continue;
    const StepContext data_step{c.scenario, k, st, c.ref, c.session_key};
    if (!f(split_did(d), external_name(instance_, data_step))) return;
  }
}

OpResult RuleOps::judge(const json& rule, const http::Outcome& read, const Did& did, const std::string& name) {
  const std::string state = text(rule, "state"), id = id_of(rule);
  const std::string what = "rucio rule " + id + " (" + did.str() + " at " + r_.rse_expression + ")";
  if (state == "OK") {
    waited(name, true);
    return {};
  }
  if (state == "STUCK") {
    waited(name, true);
    const std::string error = text(rule, "error");
    return {false, false,
            client_.scrub(what + " is STUCK: locks_stuck_cnt " + std::to_string(count(rule, "locks_stuck_cnt", 0)) +
                          (error.empty() ? "" : ", error: " + error.substr(0, 200)))};
  }
  if (state == "SUSPENDED") {
    waited(name, true);
    return {false, false, what + " is SUSPENDED (an administrator stopped it)"};
  }
  // REPLICATING, INJECT, WAITING_APPROVAL: not yet. How long: the rule's age on the server's
  // clock (Date: a skewed local clock does not matter), or since this process first ran the
  // step if longer (a rule that expired and was made again starts its created_at afresh).
  const double created = parse_date(text(rule, "created_at"));
  double now = parse_date(read.response.header("date").value_or(""));
  if (now < 0) now = static_cast<double>(std::time(nullptr));
  const double age = std::max(created >= 0 ? now - created : 0.0, waited(name, false));
  if (age > r_.max_wait_s) {
    waited(name, true);
    return {false, false,
            what + " is still " + state + " after " + std::to_string(static_cast<long>(age)) + " s (max_wait_s " +
                jsonc::fmt(r_.max_wait_s) + ")"};
  }
  return {true, false, "", r_.poll_interval_s};
}

OpResult RuleOps::data(const StepContext& c) {
  const std::string d = dids_.of(c.step.id, c.ref.session);
  if (d.empty()) return {false, false, "no DID for step " + c.step.id};  // refused when the file was loaded
  const Did did = split_did(d);
  const std::string name = external_name(instance_, c);
  json rule;
  http::Outcome read;
  if (const std::string id = remembered(name); !id.empty()) {
    read = client_.rule(id, rule);
    if (read.verdict == Verdict::ok) return judge(rule, read, did, name);
    if (read.response.status != 404) return failed(read);
    remember(name, "");  // gone (expired, or deleted by someone): looked up, then made again
  }
  std::vector<json> rules;
  read = client_.rules_on(did, r_.rse_expression, rules);
  if (read.verdict != Verdict::ok) return failed(read);
  if (const json* r = pick(rules, name)) {
    remember(name, id_of(*r));
    return judge(*r, read, did, name);
  }
  const json body = {{"dids", json::array({{{"scope", did.scope}, {"name", did.name}}})},
                     {"account", client_.settings().account},
                     {"copies", 1},
                     {"rse_expression", r_.rse_expression},
                     {"lifetime", r_.lifetime_s},
                     {"activity", r_.activity},
                     {"grouping", "DATASET"},
                     {"comment", name}};
  std::string id;
  http::Outcome made = client_.create_rule(body, id);
  if (made.verdict == Verdict::ok) {
    remember(name, id);
    waited(name, false);
    return {true, false, "", r_.poll_interval_s};
  }
  // DuplicateRule: one exists on the key after all (made in between by another process).
  if (made.response.status == 409 && exception_class(made.response) == "DuplicateRule") {
    read = client_.rules_on(did, r_.rse_expression, rules);
    if (read.verdict != Verdict::ok) return failed(read);
    if (const json* r = pick(rules, name)) {
      remember(name, id_of(*r));
      return judge(*r, read, did, name);
    }
  }
  return failed(made);
}

OpResult RuleOps::extend(const StepContext& c) {
  OpResult res;
  each_data_step(c, [&](const Did& did, const std::string& name) {
    std::vector<json> rules;
    http::Outcome o = client_.rules_on(did, r_.rse_expression, rules);
    if (o.verdict == Verdict::ok)
      if (const json* r = pick(rules, name)) o = client_.set_lifetime(id_of(*r), r_.lifetime_s);
    if (o.verdict != Verdict::ok && o.response.status != 404) res = failed(o);  // 404: gone meanwhile
    return res.ok && res.ready;
  });
  return res;
}

OpResult RuleOps::release(const StepContext& c) {
  OpResult res;
  each_data_step(c, [&](const Did& did, const std::string& name) {
    std::vector<json> rules;
    http::Outcome o = client_.rules_on(did, r_.rse_expression, rules);
    if (o.verdict == Verdict::ok)
      for (const json& r : rules) {
        if (text(r, "comments") != name) continue;  // someone else's: theirs to delete
        o = client_.remove(id_of(r));
        if (o.verdict != Verdict::ok) break;
      }
    if (o.verdict != Verdict::ok && o.response.status != 404) res = failed(o);  // 404: already gone
    else remember(name, "");
    return res.ok && res.ready;
  });
  return res;
}

}  // namespace stepq::rucio
