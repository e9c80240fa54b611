// `--trace DIR`: sessions.csv (one row per session) and steps.csv (one row per claim), with
// units in the column names, readable by pandas, R and spreadsheets without options.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/trace.hpp"

namespace stepq {

class CsvTrace final : public TraceSink {
 public:
  // Creates DIR if needed; throws std::runtime_error naming the file that cannot be written.
  CsvTrace(const std::string& dir, const Scenario& sc);
  ~CsvTrace() override;
  void claim(const ClaimRecord& r) override;
  void session(const SessionRecord& r) override;
  // Flushes and closes; throws if a write failed (disk full), so no trace is silently cut short.
  void close();

 private:
  const Scenario& sc_;
  std::string dir_;
  // Names as CSV fields (quoted when they hold a comma, quote or line break), made once.
  std::vector<std::string> kinds_, pools_, templates_;
  std::vector<std::vector<std::string>> step_ids_;
  std::FILE* steps_ = nullptr;
  std::FILE* sessions_ = nullptr;
};

}  // namespace stepq
