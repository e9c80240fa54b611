// A progress line on stderr for long work: "  simulating  42%  8,400/20,000 sessions  4,210/s  ETA 3 s".
//
//   Progress p("simulating", "sessions", total, !quiet);   // total 0: unknown (no % or ETA)
//   p.update(done);                                         // cheap; redraws at most 5 times a second
//   p.done();                                               // erases the line (also on destruction)
//
// Shown only when `enabled` and stderr is a terminal: a file or pipe gets nothing, so logs and
// tests that capture stderr see only real messages. Safe to update from several threads.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace stepq {

class Progress {
 public:
  Progress(std::string label, std::string unit, std::uint64_t total, bool enabled);
  ~Progress() { done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `detail` (optional) is shown after the figures, e.g. the configuration being simulated.
  void update(std::uint64_t done, const std::string& detail = "");
  // A new phase of the same work: another label, unit and total; the clock restarts.
  void restart(std::string label, std::string unit, std::uint64_t total);
  void done();
  bool shown() const { return on_; }

 private:
  void draw(std::uint64_t done, const std::string& detail);
  std::string label_, unit_;
  std::uint64_t total_;
  bool on_, counted_ = false;  // counted_: a figure above zero has been drawn
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::size_t width_ = 0;  // of the line on screen, to blank it out
  std::mutex mu_;
};

// Seconds for people: "45 s", "3 min 20 s", "2 h 05 min".
std::string human_duration(double seconds);

}  // namespace stepq
