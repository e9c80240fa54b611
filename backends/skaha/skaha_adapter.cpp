#include "skaha_adapter.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "core/scenario.hpp"
#include "skaha_client.hpp"

namespace stepq::skaha {

namespace {

using http::Outcome;

// What launch sends besides the name and image; one per kind.
struct LaunchSettings {
  std::string type = "headless";
  std::optional<double> cores, ram;
  std::string cmd, args;
  std::vector<std::pair<std::string, std::string>> env;
  double limit_wait_s = 30;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The end of a container log for a reason: at most 2 KB, whole lines, one line of text.
std::string log_tail(const std::string& log) {
  std::string t = log;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.size() > 2048) {
    t = t.substr(t.size() - 2048);
    if (const auto nl = t.find('\n'); nl != std::string::npos && nl + 1 < t.size()) t = t.substr(nl + 1);
  }
  std::string out;
  for (char ch : t) {
    if (ch == '\r') continue;
    out += ch == '\n' ? std::string(" | ") : std::string(1, ch);
  }
  return out;
}

// Name → session id, learnt by any kind's steps in this process (the launch kind's finds them,
// the poll kind's reads them: one Services per kind). Keyed by URL too: two Skaha services may
// hold the same name. A hint only: the server decides.
class IdCache {
 public:
  std::optional<std::string> get(const std::string& key) {
    std::lock_guard lk(mu_);
    const auto it = ids_.find(key);
    return it == ids_.end() ? std::nullopt : std::optional(it->second);
  }
  void put(const std::string& key, const std::string& id) {
    std::lock_guard lk(mu_);
    ids_[key] = id;
  }
  void drop(const std::string& key) {
    std::lock_guard lk(mu_);
    ids_.erase(key);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::string> ids_;
};

IdCache& ids() {
  static IdCache c;
  return c;
}

// A failure that another attempt cannot mend (the session failed, is gone, the image is not offered).
OpResult final_failure(std::string reason) { return {false, false, std::move(reason), 0, true}; }

class SkahaServices final : public live::AdapterServices {
 public:
  SkahaServices(Settings s, std::string instance, LaunchSettings l, std::vector<std::string> images)
      : AdapterServices("skaha"),
        client_(std::move(s)),
        instance_(std::move(instance)),
        l_(std::move(l)),
        images_(std::move(images)) {}

  OpResult pull_image(const StepContext& c) override {
    return guarded([&] { return check_image(c); });
  }
  OpResult launch(const StepContext& c) override {
    return guarded([&] { return create(c); });
  }
  OpResult poll(const StepContext& c) override {
    return guarded([&] { return watch(c); });
  }
  OpResult remove(const StepContext& c) override {
    return guarded([&] { return release(c); });
  }

 private:
  // A server may echo what it was sent, and a container log may hold anything: no reason leaves
  // with the token in it.
  template <class F>
  OpResult guarded(F&& f) const noexcept {
    OpResult r;
    try {
      r = f();
    } catch (const std::exception& e) {
      r = {false, false, std::string("skaha: ") + e.what()};
    } catch (...) {
      r = {false, false, "skaha: unknown error"};
    }
    const std::string& tok = client_.settings().token;
    for (auto at = r.reason.find(tok); !tok.empty() && at != std::string::npos; at = r.reason.find(tok, at))
      r.reason.replace(at, tok.size(), "***");
    return r;
  }

  OpResult failed(const Outcome& o) const {
    OpResult r = http::as_op_result(o);
    if (o.response.status == 401) r.reason += " (Skaha refused the bearer token: expired or revoked?)";
    return r;
  }

  // The name of what step `step` of c's session creates (external_name, for another step).
  std::string name_of(const StepContext& c, int step) const {
    const PlanStep& s = c.scenario.templates[c.ref.tmpl].steps[step];
    const StepContext other{c.scenario, c.scenario.kinds[s.kind], s, c.ref, c.session_key};
    return live::external_name(instance_, other);
  }

  // Names are not unique on Skaha: of the sessions called `name`, the first still alive, else the
  // first at all (a launch that already ran to its end is not made again).
  static std::optional<Session> pick(const std::vector<Session>& all, const std::string& name) {
    std::optional<Session> any;
    for (const Session& s : all) {
      if (lower(s.name) != name) continue;
      if (!finished(classify(s.status))) return s;
      if (!any) any = s;
    }
    return any;
  }

  Outcome find(const std::string& name, std::optional<Session>& found) {
    std::vector<Session> all;
    Outcome o = client_.list(all);
    if (o.verdict != Outcome::Verdict::ok) return o;
    found = pick(all, name);
    if (found) ids().put(key(name), found->id);
    else ids().drop(key(name));
    return o;
  }

  std::string key(const std::string& name) const { return client_.settings().url + " " + name; }

  OpResult check_image(const StepContext& c) {
    const std::string& image = images_[c.ref.tmpl];
    std::vector<std::string> ids;
    if (Outcome o = client_.images(l_.type, ids); o.verdict != Outcome::Verdict::ok) return failed(o);
    if (std::find(ids.begin(), ids.end(), image) != ids.end()) return {};
    return final_failure("image not offered by Skaha: " + image + " (type " + l_.type + ", " +
                         std::to_string(ids.size()) + " images offered)");
  }

  OpResult create(const StepContext& c) {
    const std::string name = name_of(c, c.ref.step);
    // The server is the truth: a step run again (a lost reply, a crash) finds its session.
    std::optional<Session> found;
    if (Outcome o = find(name, found); o.verdict != Outcome::Verdict::ok) return failed(o);
    if (found) return {};
    Launch l{name, images_[c.ref.tmpl], l_.type, l_.cores, l_.ram, l_.cmd, l_.args, l_.env};
    std::string id;
    const Outcome o = client_.create(l, id);
    if (o.verdict == Outcome::Verdict::fail && o.response.status == 400 &&
        o.response.body.find("has reached the maximum of") != std::string::npos)
      // The per-user session limit: wait for one of the user's sessions to end, spending no attempt.
      return {true, false, o.error, l_.limit_wait_s};
    if (o.verdict != Outcome::Verdict::ok) return failed(o);
    ids().put(key(name), id);
    return {};
  }

  OpResult watch(const StepContext& c) {
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    bool any = false;
    for (int p : t.preds(c.ref.step)) {
      if (c.scenario.kinds[t.steps[p].kind].op != Op::launch) continue;
      any = true;
      const std::string name = name_of(c, p);
      std::optional<std::string> id = ids().get(key(name));
      if (!id) {
        std::optional<Session> found;
        if (Outcome o = find(name, found); o.verdict != Outcome::Verdict::ok) return failed(o);
        if (!found)
          return final_failure("no Skaha session named " + name + " (launch step '" + t.steps[p].id + "'): gone?");
        id = found->id;
      }
      if (OpResult r = state_of(*id, name); !r.ok || !r.ready) return r;
    }
    if (!any) return {false, false, "poll step '" + c.step.id + "' has no launch step among its predecessors to watch"};
    return {};
  }

  OpResult state_of(const std::string& id, const std::string& name) {
    Session s;
    const Outcome o = client_.get(id, s);
    const std::string who = "Skaha session " + id + " (" + name + ")";
    if (o.response.status == 404) {
      ids().drop(key(name));
      return final_failure(who + " is gone (HTTP 404): deleted, or expired after it ended");
    }
    if (o.verdict != Outcome::Verdict::ok) return failed(o);
    switch (classify(s.status)) {
      case State::pending:
      case State::unknown: return {true, false, who + " is " + s.status};
      case State::running:
      case State::completed: return {};
      case State::terminating: return final_failure(who + " is Terminating: it was deleted");
      case State::failed: break;
    }
    std::string log;
    const Outcome lo = client_.logs(id, log);
    const std::string tail = lo.verdict == Outcome::Verdict::ok ? log_tail(log) : "";
    return final_failure(who + " ended " + s.status +
                         (tail.empty() ? " (no log: " + lo.error + ")" : "; its log ends: " + tail));
  }

  OpResult release(const StepContext& c) {
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    std::vector<Session> all;
    if (Outcome o = client_.list(all); o.verdict != Outcome::Verdict::ok) return failed(o);
    for (int i = 0; i < static_cast<int>(t.steps.size()); ++i) {
      if (c.scenario.kinds[t.steps[i].kind].op != Op::launch) continue;
      const std::string name = name_of(c, i);
      // Every session of that name: a duplicate made behind stepq's back is given back too.
      for (const Session& s : all)
        if (lower(s.name) == name && classify(s.status) != State::terminating)
          if (Outcome o = client_.remove(s.id); o.verdict != Outcome::Verdict::ok) return failed(o);
      ids().drop(key(name));
    }
    return {};
  }

  Client client_;
  std::string instance_;
  LaunchSettings l_;
  std::vector<std::string> images_;  // per template ("" where it has no launch or image step)
};

// The server pastes values into a YAML template (§1.4): refuse what it would mangle.
std::string safe(const jsonc::Node& n, bool non_empty = false) {
  const std::string v = non_empty ? n.name() : n.string();
  if (v.find('"') != std::string::npos) n.fail("must not hold '\"' (Skaha pastes it into YAML unquoted)");
  if (v.find_first_of("\r\n") != std::string::npos) n.fail("must not hold a line break (Skaha pastes it into YAML)");
  return v;
}

bool env_name(const std::string& k) {
  if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0]))) return false;
  return std::all_of(k.begin(), k.end(),
                     [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
}

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  cfg.keys({"url", "token_env", "token_file", "image", "images", "type", "cores", "ram", "cmd", "args", "env",
            "limit_wait_s", "connect_timeout_s", "total_timeout_s"});
  cfg.ops({Op::image, Op::launch, Op::poll, Op::remove});
  Settings s;
  s.url = cfg.url();
  s.token = cfg.secret("token");
  if (s.token.empty()) cfg.fail("the skaha adapter needs a bearer token: give \"token_env\" or \"token_file\"");
  s.connect_timeout_s = cfg.seconds("connect_timeout_s", s.connect_timeout_s);
  s.total_timeout_s = cfg.seconds("total_timeout_s", s.total_timeout_s);

  LaunchSettings l;
  if (const auto n = cfg["type"]; n.present())
    l.type = n.choice({"headless", "notebook", "desktop", "carta", "contributed", "firefly", "desktop-app"});
  if (const auto n = cfg["cores"]; n.present()) l.cores = n.positive();
  if (const auto n = cfg["ram"]; n.present()) l.ram = n.positive();
  if (const auto n = cfg["cmd"]; n.present()) l.cmd = safe(n);
  if (const auto n = cfg["args"]; n.present()) l.args = safe(n);
  if (const auto n = cfg["env"]; n.present()) {
    if (!n.json().is_object()) n.expected("an object: variable name -> value");
    for (const std::string& k : n.names()) {
      if (!env_name(k)) n[k].fail("not an environment variable name (letters, digits and '_', not first a digit)");
      const std::string v = safe(n[k]);
      if (v.find('=') != std::string::npos) n[k].fail("must not hold '=' (Skaha drops such an entry silently)");
      l.env.emplace_back(k, v);
    }
  }
  if (l.type != "headless")
    for (const char* key : {"cmd", "args", "env"})
      if (cfg[key].present())
        cfg[key].fail("only headless sessions take it (Skaha ignores it for type " + l.type + ")");
  l.limit_wait_s = cfg.seconds("limit_wait_s", l.limit_wait_s);

  const Op op = cfg.kind_spec().op;
  std::vector<std::string> images(cfg.scenario().templates.size());
  if (op == Op::launch || op == Op::image) {
    cfg.require_per_template("image", "images");
    for (int t = 0; t < static_cast<int>(images.size()); ++t)
      if (const auto n = cfg.per_template("image", "images", t); n.present()) images[t] = safe(n, true);
  }
  return std::make_unique<SkahaServices>(std::move(s), cfg.instance(), std::move(l), std::move(images));
}

}  // namespace stepq::skaha
