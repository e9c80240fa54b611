#include "trace_csv.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace stepq {

namespace {
std::FILE* open_csv(const std::string& path, const char* header) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error(path + ": cannot write the trace file: " + std::strerror(errno));
  std::fputs(header, f);
  return f;
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. Names in a
// scenario are free text ("fs/copy", "stage, then copy"), and a reader must not split them.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}
}  // namespace

CsvTrace::CsvTrace(const std::string& dir, const Scenario& sc) : sc_(sc), dir_(dir) {
  for (const auto& k : sc.kinds) kinds_.push_back(field(k.name));
  for (const auto& p : sc.pools) pools_.push_back(field(p.name));
  for (const auto& t : sc.templates) {
    templates_.push_back(field(t.name));
    step_ids_.emplace_back();
    for (const auto& st : t.steps) step_ids_.back().push_back(field(st.id));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the trace directory: " + ec.message());
  sessions_ =
      open_csv(dir + "/sessions.csv", "session,template,arrival_s,finished_s,startup_s,outcome,prepare_cost_s\n");
  steps_ = open_csv(dir + "/steps.csv",
                    "session,template,step,kind,pool,attempt,ready_s,claimed_s,finished_s,wait_s,service_s,outcome\n");
}

CsvTrace::~CsvTrace() {
  if (steps_) std::fclose(steps_);
  if (sessions_) std::fclose(sessions_);
}

void CsvTrace::claim(const ClaimRecord& r) {
  std::fprintf(steps_, "%llu,%s,%s,%s,%s,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.*s\n",
               static_cast<unsigned long long>(r.session), templates_[r.tmpl].c_str(),
               step_ids_[r.tmpl][r.step].c_str(), kinds_[r.kind].c_str(), pools_[r.pool].c_str(), r.attempt, r.ready_s,
               r.claimed_s, r.finished_s, r.claimed_s - r.ready_s, r.finished_s - r.claimed_s,
               static_cast<int>(r.outcome.size()), r.outcome.data());
}

void CsvTrace::session(const SessionRecord& r) {
  const auto& t = sc_.templates[r.tmpl];
  if (r.started)
    std::fprintf(sessions_, "%llu,%s,%.9g,%.9g,%.9g,started,%.9g\n", static_cast<unsigned long long>(r.session),
                 templates_[r.tmpl].c_str(), r.accepted_s, r.finished_s, r.finished_s - r.accepted_s,
                 t.total_prepare_cost_s);
  else
    std::fprintf(sessions_, "%llu,%s,%.9g,%.9g,,failed,%.9g\n", static_cast<unsigned long long>(r.session),
                 templates_[r.tmpl].c_str(), r.accepted_s, r.finished_s, t.total_prepare_cost_s);
}

void CsvTrace::close() {
  bool ok = true;
  for (std::FILE** f : {&steps_, &sessions_}) {
    if (!*f) continue;
    ok = !std::ferror(*f) && ok;
    ok = std::fclose(*f) == 0 && ok;
    *f = nullptr;
  }
  if (!ok) throw std::runtime_error(dir_ + ": writing the trace failed (disk full?)");
}

}  // namespace stepq
