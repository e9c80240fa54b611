#include "progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "reports/format.hpp"

namespace stepq {

namespace {
using format::grouped;
constexpr std::size_t kColumns = 99;  // a line must not wrap in a 100-column terminal
}  // namespace

std::string human_duration(double s) {
  char b[48];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) std::snprintf(b, sizeof b, "%.0f s", std::ceil(s));
  else if (s < 3600) std::snprintf(b, sizeof b, "%d min %02d s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else std::snprintf(b, sizeof b, "%d h %02d min", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  return b;
}

Progress::Progress(std::string label, std::string unit, std::uint64_t total, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      on_(enabled && ::isatty(2)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (on_) draw(0, "");
}

void Progress::restart(std::string label, std::string unit, std::uint64_t total) {
  std::lock_guard l(mu_);
  label_ = std::move(label), unit_ = std::move(unit), total_ = total;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  counted_ = false;
  if (on_) draw(0, "");
}

void Progress::update(std::uint64_t done, const std::string& detail) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard l(mu_);
  // The first figures are drawn at once (a rate and an ETA as soon as there is one), then at most
  // five times a second, and the last one always.
  if (counted_ && now - last_draw_ < std::chrono::milliseconds(200) && !(total_ && done >= total_)) return;
  counted_ = done > 0;
  last_draw_ = now;
  draw(done, detail);
}

void Progress::draw(std::uint64_t done, const std::string& detail) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = "  " + label_;
  char b[160];
  if (total_) {
    std::snprintf(b, sizeof b, "  %3d%%  %s/%s %s",
                  static_cast<int>(100.0 * static_cast<double>(std::min(done, total_)) / static_cast<double>(total_)),
                  grouped(done).c_str(), grouped(total_).c_str(), unit_.c_str());
  } else {
    std::snprintf(b, sizeof b, "  %s %s", grouped(done).c_str(), unit_.c_str());
  }
  line += b;
  if (done > 0 && elapsed > 0) {
    const double rate = static_cast<double>(done) / elapsed;
    std::snprintf(b, sizeof b, rate >= 100 ? "  %.0f/s" : "  %.3g/s", rate);
    line += b;
    if (total_ && done < total_) line += "  ETA " + human_duration(static_cast<double>(total_ - done) / rate);
  }
  if (!detail.empty()) line += "  " + detail;
  if (line.size() > kColumns) line = line.substr(0, kColumns - 1) + "~";
  const std::size_t pad = width_ > line.size() ? width_ - line.size() : 0;
  std::fprintf(stderr, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
  std::fflush(stderr);
  width_ = line.size();
}

void Progress::done() {
  std::lock_guard l(mu_);
  if (!on_ || width_ == 0) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(stderr);
  width_ = 0;
}

}  // namespace stepq
