#include "local_services.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/scenario.hpp"

namespace stepq::local {

OpResult start_detached(const std::filesystem::path& dir, const std::string& id, const std::string& program,
                        const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env);
OpResult check_finished(const std::filesystem::path& dir, const std::string& id, const std::string& program);
OpResult stop_launched(const std::filesystem::path& dir, const std::string& id);

namespace {

const LocalStep* instructions(const StepContext& c) { return c.step.local ? &*c.step.local : nullptr; }

OpResult missing(const StepContext& c, const char* field) {
  return {false, false,
          "step '" + c.step.id + "' (kind " + c.kind.name + ") has no \"local\": {\"" + field +
              "\": …} telling the local platform what to do (docs/scenarios.md)"};
}

// file:///ABSOLUTE, percent-encoded so that spaces and '%' in the path survive URL parsing.
std::string file_url(const std::filesystem::path& p) {
  static const char* hex = "0123456789ABCDEF";
  std::string u = "file://";
  for (unsigned char ch : p.string()) {
    if (std::isalnum(ch) || std::strchr("/-._~", ch)) u += static_cast<char>(ch);
    else u += '%', u += hex[ch >> 4], u += hex[ch & 15];
  }
  return u;
}

// "in%20put.txt" -> "in put.txt"; a malformed escape is kept as it is.
std::string percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Runs one operation; an exception (out of memory, a filesystem error) becomes a failed step.
template <class F>
OpResult guarded(const StepContext& c, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    return {false, false, "step '" + c.step.id + "': " + e.what()};
  } catch (...) {
    return {false, false, "step '" + c.step.id + "': unknown error"};
  }
}

}  // namespace

bool resolve_program(const std::string& program, std::string& out) {
  auto executable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (executable(program)) {
      std::error_code ec;
      const auto abs = std::filesystem::absolute(program, ec);
      out = ec ? program : abs.string();
      return true;
    }
    out = "program " + program + " does not exist or is not executable";
    return false;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && executable(std::filesystem::path(d) / program)) {
      out = (std::filesystem::path(d) / program).string();
      return true;
    }
  out = "program '" + program + "' is not on PATH (" + (path ? path : "") + ")";
  return false;
}

LocalServices::LocalServices(const Scenario& sc) : root_(std::filesystem::absolute(sc.platform.local_root)) {
  const auto dir = std::filesystem::path(sc.file).parent_path();
  scenario_dir_ = dir.empty() ? std::filesystem::current_path() : std::filesystem::absolute(dir);
}

std::filesystem::path session_dir(const std::filesystem::path& root, std::uint64_t session) {
  return root / ("session-" + std::to_string(session));
}

std::filesystem::path LocalServices::session_dir(std::uint64_t session) const {
  return local::session_dir(root_, session);
}

OpResult LocalServices::pull_image(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    const LocalStep* l = instructions(c);
    if (!l || l->program.empty()) return missing(c, "program");
    std::string resolved;
    if (!resolve_program(l->program, resolved)) return {false, false, resolved};
    return {};
  });
}

OpResult LocalServices::allocate_storage(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    std::error_code ec;
    std::filesystem::create_directories(root_, ec);
    if (ec) return {false, false, "cannot create the storage root " + root_.string() + ": " + ec.message()};
    if (const LocalStep* l = instructions(c); l && l->size_bytes) {
      struct statvfs fs {};
      if (::statvfs(root_.c_str(), &fs) != 0) return {false, false, "cannot read the free space of " + root_.string()};
      const double free = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
      if (free < *l->size_bytes)
        return {false, false,
                "only " + std::to_string(static_cast<std::uint64_t>(free)) + " bytes free under " + root_.string() +
                    "; step '" + c.step.id + "' asks for " +
                    std::to_string(static_cast<std::uint64_t>(*l->size_bytes))};
    }
    std::filesystem::create_directories(session_dir(c.ref.session), ec);
    if (ec) return {false, false, "cannot create " + session_dir(c.ref.session).string() + ": " + ec.message()};
    return {};
  });
}

OpResult LocalServices::stage_data(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    const LocalStep* l = instructions(c);
    if (!l || l->url.empty()) return missing(c, "url");
    std::string url = l->url;
    // file:RELATIVE is relative to the scenario file, so a scenario and its data travel together.
    if (url.rfind("file:", 0) == 0 && url.rfind("file://", 0) != 0) url = file_url(scenario_dir_ / url.substr(5));
    // The file keeps the name of the URL's last path segment (query and fragment dropped).
    const std::string path = url.substr(0, url.find_first_of("?#"));
    std::string name = percent_decoded(path.substr(path.find_last_of('/') + 1));
    if (name.empty() || name == "." || name == ".." || name == ".stepq" ||
        name.find_first_of(std::string("/\0", 2)) != std::string::npos)
      name = c.step.id;
    return fetch(url, session_dir(c.ref.session) / name, l->size_bytes, l->sha256);
  });
}

OpResult LocalServices::launch(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    const LocalStep* l = instructions(c);
    if (!l || l->program.empty()) return missing(c, "program");
    return start_detached(session_dir(c.ref.session), c.step.id, l->program, l->args, l->env);
  });
}

OpResult LocalServices::poll(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    // A poll watches the programs its launch predecessors started.
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    bool any = false;
    for (int p : t.plan.preds[c.ref.step]) {
      if (c.scenario.kinds[t.steps[p].kind].op != Op::launch) continue;
      any = true;
      const PlanStep& launch = t.steps[p];
      OpResult r = check_finished(session_dir(c.ref.session), launch.id, launch.local ? launch.local->program : "?");
      if (!r.ok || !r.ready) return r;
    }
    if (!any) return {false, false, "poll step '" + c.step.id + "' has no launch step among its predecessors to watch"};
    return {};
  });
}

OpResult LocalServices::remove(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    for (const PlanStep& s : t.steps)
      if (c.scenario.kinds[s.kind].op == Op::launch)
        if (OpResult r = stop_launched(session_dir(c.ref.session), s.id); !r.ok) return r;
    return {};
  });
}

OpResult LocalServices::cleanup(const StepContext& c) {
  return guarded(c, [&]() -> OpResult {
    // The session directory is the local platform's one storage item: WriteTemp means it goes
    // (all but .stepq, where its programs' records are).
    const TemplateSpec& t = c.scenario.templates[c.ref.tmpl];
    bool temp = false;
    for (const PlanStep& s : t.steps)
      temp = temp || (c.scenario.kinds[s.kind].op == Op::storage && s.mount == Mount::write_temp);
    if (!temp) return {};
    std::error_code ec;
    const auto dir = session_dir(c.ref.session);
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().filename() != ".stepq") std::filesystem::remove_all(e.path(), ec);
    if (ec) return {false, false, "cannot clean " + dir.string() + ": " + ec.message()};
    return {};
  });
}

OpResult LocalServices::pushback(const StepContext& c) {
  return {false, false, "kind '" + c.kind.name + "': the local platform has nowhere to push output back to"};
}

}  // namespace stepq::local
