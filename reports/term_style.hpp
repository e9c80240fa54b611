// Colour and weight for terminal tables: on only when the stream is a terminal and NO_COLOR is
// unset or empty (https://no-color.org); a file or pipe always gets plain text.
#pragma once
#include <string>

namespace stepq {

struct TermStyle {
  bool on = false;
  static TermStyle for_fd(int fd);  // 1: stdout, 2: stderr
  std::string bold(const std::string& s) const { return wrap("1", s); }
  std::string red(const std::string& s) const { return wrap("31", s); }
  std::string green(const std::string& s) const { return wrap("32", s); }
  std::string yellow(const std::string& s) const { return wrap("33", s); }

 private:
  std::string wrap(const char* code, const std::string& s) const {
    return on ? "\x1b[" + std::string(code) + "m" + s + "\x1b[0m" : s;
  }
};

}  // namespace stepq
