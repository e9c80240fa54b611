#include "podman_adapter.hpp"

#include <filesystem>

#include "backends/local/local_services.hpp"
#include "podman_api.hpp"

namespace stepq::podman {

namespace {

using jsonc::Node;

struct Template {
  std::string image;
  std::vector<std::string> command;
};

// The launch steps a poll step comes after, directly or not (a step may sit between them).
std::vector<int> launches_before(const TemplateSpec& t, const Scenario& sc, int step) {
  std::vector<int> out, todo(t.preds(step).begin(), t.preds(step).end());
  std::vector<bool> seen(t.steps.size());
  while (!todo.empty()) {
    const int p = todo.back();
    todo.pop_back();
    if (seen[p]) continue;
    seen[p] = true;
    if (sc.kinds[t.steps[p].kind].op == Op::launch) out.push_back(p);
    todo.insert(todo.end(), t.preds(p).begin(), t.preds(p).end());
  }
  return out;
}

class PodmanServices final : public live::AdapterServices {
 public:
  PodmanServices(Connection conn, PullOptions pull, std::vector<Template> templates,
                 std::vector<std::pair<std::string, std::string>> env, std::string mount_at, int stop_timeout_s,
                 std::filesystem::path root, std::string instance)
      : AdapterServices("podman"),
        conn_(std::move(conn)),
        pull_(std::move(pull)),
        templates_(std::move(templates)),
        env_(std::move(env)),
        mount_at_(std::move(mount_at)),
        stop_timeout_s_(stop_timeout_s),
        root_(std::move(root)),
        instance_(std::move(instance)) {}

  OpResult pull_image(const StepContext& c) override {
    return http::as_op_result(pull(conn_, templates_[c.ref.tmpl].image, pull_));
  }

  OpResult launch(const StepContext& c) override {
    const std::string name = live::external_name(instance_, c);
    http::Outcome out;
    std::optional<State> st = inspect(conn_, name, out);
    if (out.verdict != http::Outcome::Verdict::ok) return http::as_op_result(out);
    if (!st) {
      const auto dir = local::session_dir(root_, c.ref.session);
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return {false, false, "cannot create " + dir.string() + ": " + ec.message()};
      CreateSpec spec;
      spec.name = name;
      spec.image = templates_[c.ref.tmpl].image;
      spec.command = templates_[c.ref.tmpl].command;
      spec.env = env_;
      spec.labels = {
          {"stepq.instance", instance_}, {"stepq.session", std::to_string(c.ref.session)}, {"stepq.step", c.step.id}};
      spec.mounts = {{dir.string(), mount_at_}};
      const Created made = create(conn_, spec);
      if (made.outcome.verdict != http::Outcome::Verdict::ok) return http::as_op_result(made.outcome);
      st = State{"created", 0, ""};
      if (made.exists) {  // made by an earlier attempt whose answer was lost, or by another process
        st = inspect(conn_, name, out);
        if (out.verdict != http::Outcome::Verdict::ok) return http::as_op_result(out);
        if (!st) return {false, false, "container " + name + " was there and is gone (removed meanwhile)"};
      }
    }
    // Start only what never started: starting an exited container would run its job again.
    if (st->status != "created" && st->status != "configured") return {};
    const http::Outcome started = start(conn_, name);
    // The runtime refusing the command (not found, not executable) is not a passing fault:
    // asking again gives the same answer. Exit statuses as `podman run` reports them.
    if (const std::string& body = started.response.body;
        started.response.status == 500 && body.find("OCI ") != std::string::npos) {
      const int code = body.find("not found") != std::string::npos           ? 127
                       : body.find("permission denied") != std::string::npos ? 126
                                                                             : 125;
      return {false, false,
              "container " + name + " could not start (exit status " + std::to_string(code) + "): " + started.error, 0,
              true};
    }
    return http::as_op_result(started);
  }

  OpResult poll(const StepContext& c) override {
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    bool any = false;
    for (int p : launches_before(t, c.scenario, c.ref.step)) {
      any = true;
      const std::string name = live::external_name(instance_, c.ref.session, t.steps[p].id);
      http::Outcome out;
      const std::optional<State> st = inspect(conn_, name, out);
      if (out.verdict != http::Outcome::Verdict::ok) return http::as_op_result(out);
      if (!st) return {false, false, "container " + name + " is gone (removed before it was seen running)"};
      if (st->status == "running" || st->status == "paused" || st->status == "stopping") continue;
      if (st->status == "exited" || st->status == "stopped") {
        if (st->exit_code == 0) continue;
        std::string why = "container " + name + " exited with status " + std::to_string(st->exit_code) +
                          " before it was seen running";
        if (!st->error.empty()) why += " (" + st->error + ")";
        const std::string log = log_tail(conn_, name);
        return {false, false, why + (log.empty() ? "; no log" : "; log: " + log), 0, true};
      }
      return {true, false, ""};  // created, initialized: not yet
    }
    if (!any) return {false, false, "poll step '" + c.step.id + "' has no launch step before it to watch", 0, true};
    return {};
  }

  OpResult remove(const StepContext& c) override {
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    for (const PlanStep& s : t.steps) {
      if (c.scenario.kinds[s.kind].op != Op::launch) continue;
      const std::string name = live::external_name(instance_, c.ref.session, s.id);
      if (http::Outcome o = stop(conn_, name, stop_timeout_s_); o.verdict != http::Outcome::Verdict::ok)
        return http::as_op_result(o);
      if (http::Outcome o = podman::remove(conn_, name); o.verdict != http::Outcome::Verdict::ok)
        return http::as_op_result(o);
    }
    return {};
  }

 private:
  Connection conn_;
  PullOptions pull_;
  std::vector<Template> templates_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::string mount_at_;
  int stop_timeout_s_;
  std::filesystem::path root_;
  std::string instance_;
};

std::vector<std::string> strings(const Node& n) {
  const std::size_t k = n.array("an array of strings, e.g. [\"/bin/sh\", \"-c\", \"…\"]");
  std::vector<std::string> v;
  for (std::size_t i = 0; i < k; ++i) v.push_back(n[i].string());
  if (!v.empty() && v[0].empty()) n[0].fail("the program must not be empty");
  return v;
}

bool boolean(const Node& n, bool fallback) {
  if (!n.present()) return fallback;
  if (!n.json().is_boolean()) n.expected("true or false");
  return n.json().get<bool>();
}

// X-Registry-Auth: base64 of the auth config JSON libpod reads for a pull.
std::string registry_auth(const std::string& user, const std::string& password, const std::string& server) {
  const std::string j = nlohmann::json{{"username", user}, {"password", password}, {"serveraddress", server}}.dump();
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < j.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(j[i]) << 16) | (static_cast<unsigned char>(j[i + 1]) << 8) |
                       static_cast<unsigned char>(j[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == j.size()) {
    const unsigned v = static_cast<unsigned char>(j[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == j.size()) {
    const unsigned v = (static_cast<unsigned char>(j[i]) << 16) | (static_cast<unsigned char>(j[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

std::unique_ptr<Services> make_adapter(const live::AdapterConfig& cfg) {
  cfg.keys({"socket", "image", "images", "command", "commands", "env", "mount_at", "tls_verify", "registry_username",
            "registry_password_env", "registry_password_file", "stop_timeout_s", "connect_timeout_s", "total_timeout_s",
            "pull_timeout_s"});
  cfg.ops({Op::image, Op::launch, Op::poll, Op::remove});
  Connection conn;
  const Node socket = cfg["socket"];
  conn.socket = socket.name();
  if (conn.socket.rfind("unix://", 0) == 0) conn.socket = conn.socket.substr(7);
  if (conn.socket.empty() || conn.socket[0] != '/')
    socket.fail("must be the absolute path of Podman's unix socket, e.g. /run/podman/podman.sock (got \"" +
                socket.string() + "\")");
  conn.connect_timeout_s = cfg.seconds("connect_timeout_s", conn.connect_timeout_s);
  conn.total_timeout_s = cfg.seconds("total_timeout_s", conn.total_timeout_s);
  conn.pull_timeout_s = cfg.seconds("pull_timeout_s", conn.pull_timeout_s);

  const Op op = cfg.kind_spec().op;
  PullOptions pull;
  pull.tls_verify = boolean(cfg["tls_verify"], true);
  const std::string password = cfg.secret("registry_password");
  if (!password.empty()) {
    if (!cfg["registry_username"].present()) cfg["registry_username"].expected("given with a registry password");
    pull.registry_auth = registry_auth(cfg["registry_username"].name(), password, "");
  }
  std::vector<Template> templates(cfg.scenario().templates.size());
  if (op == Op::image || op == Op::launch) {
    cfg.require_per_template("image", "images");
    for (int t = 0; t < static_cast<int>(templates.size()); ++t) {
      if (const Node n = cfg.per_template("image", "images", t); n.present()) templates[t].image = n.name();
      if (const Node n = cfg.per_template("command", "commands", t); n.present()) templates[t].command = strings(n);
    }
  }
  std::vector<std::pair<std::string, std::string>> env;
  if (const Node n = cfg["env"]; n.present()) {
    if (!n.json().is_object()) n.expected("an object: variable name -> value");
    for (const std::string& k : n.names()) {
      if (k.empty() || k.find('=') != std::string::npos) n[k].fail("not a variable name");
      env.emplace_back(k, n[k].string());
    }
  }
  std::string mount_at = "/session";
  if (const Node n = cfg["mount_at"]; n.present()) {
    mount_at = n.name();
    if (mount_at[0] != '/' || mount_at == "/") n.fail("must be an absolute path inside the container, not /");
  }
  const int stop_timeout = static_cast<int>(cfg.seconds("stop_timeout_s", 10));
  return std::make_unique<PodmanServices>(
      std::move(conn), std::move(pull), std::move(templates), std::move(env), std::move(mount_at), stop_timeout,
      std::filesystem::absolute(cfg.scenario().platform.local_root), cfg.instance());
}

}  // namespace stepq::podman
