#include "adapter.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace stepq::live {

using jsonc::Node;

Node AdapterConfig::operator[](std::string_view key) const {
  // An absent key is reported at the kind's entry unless the file has a shared entry to add it to.
  const Node own = entry_[key];
  return own.present() || !shared_.present() ? own : shared_[key];
}

void AdapterConfig::keys(const std::vector<std::string>& allowed) const {
  std::vector<std::string> all = allowed;
  all.push_back("adapter");
  entry_.object(all);
  if (shared_.present()) shared_.object(allowed);
}

void AdapterConfig::ops(const std::vector<Op>& ops) const {
  const Op op = kind_spec().op;
  if (std::find(ops.begin(), ops.end(), op) != ops.end()) return;
  std::string list;
  for (std::size_t i = 0; i < ops.size(); ++i)
    list += (i == 0 ? "" : i + 1 == ops.size() ? " and " : ", ") + std::string(to_string(ops[i]));
  entry_["adapter"].fail("the " + adapter_ + " adapter runs " + list + " kinds; kind " + kind_spec().name +
                         " has op \"" + std::string(to_string(op)) + "\"");
}

std::string AdapterConfig::secret(const std::string& what) const {
  const Node env = (*this)[what + "_env"], file = (*this)[what + "_file"];
  if (env.present() && file.present()) file.fail("give " + what + "_env or " + what + "_file, not both");
  if (env.present()) {
    const std::string var = env.name();
    const char* v = std::getenv(var.c_str());
    if (!v || !*v) env.fail("the environment variable " + var + " is not set (it holds the " + what + ")");
    return v;
  }
  if (file.present()) {
    const std::string path = file.name();
    std::ifstream f(path, std::ios::binary);
    if (!f) file.fail("cannot read " + path + " (it holds the " + what + ")");
    // Read no more than a secret can be: a device (/dev/zero) or a wrong file would never end.
    constexpr std::size_t kMax = 64 * 1024;
    std::string s(kMax + 1, '\0');
    f.read(s.data(), static_cast<std::streamsize>(s.size()));
    if (f.bad()) file.fail("cannot read " + path + " (it holds the " + what + ")");
    s.resize(static_cast<std::size_t>(f.gcount()));
    if (s.size() > kMax) file.fail(path + " is larger than 64 KiB: is it the file that holds the " + what + "?");
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) file.fail(path + " is empty (it should hold the " + what + ")");
    // It goes into a header line as it is: a line break or other control byte would end it there.
    if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t'; }))
      file.fail(path + " holds more than one line, or control characters: the " + what + " is one line");
    return s;
  }
  return "";
}

std::string AdapterConfig::url(const std::string& key) const {
  const Node n = (*this)[key];
  std::string u = n.name();
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
    n.fail("must start with http:// or https:// (got \"" + u + "\")");
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

double AdapterConfig::seconds(const std::string& key, double fallback) const {
  const Node n = (*this)[key];
  return n.present() ? n.positive() : fallback;
}

Node AdapterConfig::per_template(const std::string& single, const std::string& key, int tmpl) const {
  const Node map = (*this)[key];
  if (map.present()) {
    std::vector<std::string> templates;
    for (const auto& t : sc_.templates) templates.push_back(t.name);
    map.object(templates, "an object: template name -> value");
    const Node own = map[sc_.templates[tmpl].name];
    if (own.present()) return own;
  }
  return (*this)[single];
}

void AdapterConfig::require_per_template(const std::string& single, const std::string& key) const {
  for (int t = 0; t < static_cast<int>(sc_.templates.size()); ++t) {
    bool uses = false;
    for (const auto& st : sc_.templates[t].steps) uses = uses || st.kind == kind_;
    if (uses && !per_template(single, key, t).present())
      entry_[single].fail("no " + single + " for template " + sc_.templates[t].name + " (give \"" + single +
                          "\", or \"" + key + "\": {\"" + sc_.templates[t].name + "\": ...})");
  }
}

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::string hex(std::uint64_t v, int digits) {
  static const char* d = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = d[v & 15];
  return out;
}

std::string label_safe(std::string s) {
  for (char& ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    ch = std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  if (s.size() > 63) s = s.substr(0, 54) + "-" + hex(fnv1a(s), 8);
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

}  // namespace

std::string external_name(const std::string& instance, std::uint64_t session, const std::string& step_id) {
  return label_safe(instance + "-" + std::to_string(session) + "-" + step_id);
}

std::string external_name(const std::string& instance, const StepContext& c) {
  return external_name(instance, c.ref.session, c.step.id);
}

std::string external_name(const std::string& instance, std::uint64_t session) {
  return label_safe(instance + "-" + std::to_string(session));
}

std::string default_instance(const std::string& db_identity) { return "stepq-" + hex(fnv1a(db_identity), 8); }

OpResult AdapterServices::unsupported(const StepContext& c) const {
  return {false, false,
          "the " + adapter_ + " adapter does not run op \"" + std::string(to_string(c.kind.op)) + "\" (kind " +
              c.kind.name + ")"};
}

}  // namespace stepq::live
