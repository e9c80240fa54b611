#include "json_node.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace stepq::jsonc {

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Where the parser is: one frame per open object or array.
struct Frame {
  bool array;
  long index;
  std::string key;
  std::set<std::string> keys;
};

// The pointer of the value the parser is reading: in an object, the last key's; in an array, the
// element after the last one finished (a value that failed to parse never reached the callback).
std::string pointer_of_next(const std::vector<Frame>& stack) {
  std::string p;
  for (std::size_t i = 0; i < stack.size(); ++i) {
    const Frame& f = stack[i];
    const long index = f.index + (i + 1 == stack.size() ? 1 : 0);
    p += "/" + (f.array ? std::to_string(index) : escape(f.key));
  }
  return p;
}

// nlohmann keeps the last of two equal keys without a word, so a kind pasted twice would
// silently replace the first. This parser callback tracks where it is and refuses duplicates.
// The parser copies its callback, so the stack lives with the caller, who reads it on an error.
class DuplicateKeys {
 public:
  DuplicateKeys(const std::string& file, std::vector<Frame>& stack) : file_(file), stack_(stack) {}

  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        next_element();
        stack_.push_back(Frame{event == E::array_start, -1, {}, {}});
        break;
      case E::object_end:
      case E::array_end: stack_.pop_back(); break;
      case E::key: {
        Frame& f = stack_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) throw ScenarioError(file_ + ": " + pointer() + ": key given twice");
        break;
      }
      case E::value: next_element(); break;
    }
    return true;
  }

 private:
  void next_element() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
  }
  std::string pointer() const {
    std::string p;
    for (const auto& f : stack_) p += "/" + (f.array ? std::to_string(f.index) : escape(f.key));
    return p;
  }
  const std::string& file_;
  std::vector<Frame>& stack_;
};

}  // namespace

// A key as one JSON-pointer reference token (RFC 6901): "a/b" → "a~1b".
std::string escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// What the user wrote, for "(got X)": scalars as JSON, containers by their shape, so one line
// stays one readable line.
std::string shown(const Json& j) {
  if (j.is_object()) return j.empty() ? "{}" : "an object";
  if (j.is_array()) return j.empty() ? "[]" : "an array";
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// "; did you mean 'threads'?" for a likely slip, else "; <label>: a, b, c". A slip is a name the
// word starts (or is started by) — usually a forgotten unit suffix, "interval" for "interval_s" —
// or one within 3 edits that are at most half its length, so that "rate" does not suggest "file".
std::string hint(std::string_view word, const std::vector<std::string>& candidates, std::string_view label) {
  const std::string* best = nullptr;
  std::size_t best_score = SIZE_MAX;
  for (const auto& c : candidates) {
    const std::string_view shorter = word.size() < c.size() ? word : std::string_view(c);
    const std::string_view longer = word.size() < c.size() ? std::string_view(c) : word;
    const std::size_t d = edit_distance(word, c);
    const bool prefix = shorter.size() >= 3 && longer.substr(0, shorter.size()) == shorter;
    const std::size_t score = prefix ? 0 : d <= 3 && 2 * d <= longer.size() ? d : SIZE_MAX;
    if (score < best_score) best = &c, best_score = score;
  }
  if (best) return "; did you mean '" + *best + "'?";
  if (candidates.empty()) return "; none are declared";
  std::string list;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i == 12) {  // the longest list of allowed keys (a template step's) fits
      list += ", ...";
      break;
    }
    list += (i ? ", " : "") + candidates[i];
  }
  return "; " + std::string(label) + ": " + list;
}

// Integral JSON numbers, including integral-valued floats such as 2e5.
std::optional<std::uint64_t> as_uint(const Json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    return v >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(v)) : std::nullopt;
  }
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (std::isfinite(v) && v >= 0 && v == std::floor(v) && v < 0x1.0p64) return static_cast<std::uint64_t>(v);
  }
  return std::nullopt;
}

const Json kMissing;

Json parse_document(const std::string& text, const std::string& file) {
  std::vector<Frame> stack;
  try {
    return Json::parse(text, DuplicateKeys(file, stack), /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::out_of_range& e) {
    // A number no double holds (1e999): nlohmann throws out_of_range, not parse_error, and with
    // no position, so the place is the pointer of the value being read.
    std::string what = e.what();  // "[json.exception.out_of_range.406] number overflow parsing '1e999'"
    const auto q = what.find('\'');
    std::string got = q == std::string::npos ? what : what.substr(q + 1, what.size() - q - 2);
    if (got.size() > 40) got = got.substr(0, 37) + "...";
    const std::string at = pointer_of_next(stack);
    throw ScenarioError(file + ": " + (at.empty() ? "" : at + ": ") + "must be a number a double can hold (got " + got +
                        ")");
  } catch (const Json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < at; ++i)
      if (text[i] == '\n') ++line, line_start = i + 1;
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line L, column C: WHAT"
    if (const auto c = what.find(", column "); c != std::string::npos)
      if (const auto s = what.find(": ", c); s != std::string::npos) what = what.substr(s + 2);
    throw ScenarioError(file + ": line " + std::to_string(line) + ", column " + std::to_string(at - line_start + 1) +
                        ": " + what);
  }
}

}  // namespace stepq::jsonc
