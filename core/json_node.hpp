// A JSON document read for validation: every value knows its JSON pointer, so each check can
// say where it failed ("FILE: /kinds/work/threads: must be a positive integer (got -1)"), and an
// unknown name gets a "did you mean" hint. Shared by the scenario loader (scenario_load.cpp) and
// every other file stepq validates the same way.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario_load.hpp"  // ScenarioError

namespace stepq::jsonc {

using Json = nlohmann::ordered_json;

// A key as one JSON-pointer reference token (RFC 6901): "a/b" → "a~1b".
std::string escape(std::string_view key);
std::string fmt(double v);
// What the user wrote, for "(got X)": scalars as JSON, containers by their shape.
std::string shown(const Json& j);
// "; did you mean 'threads'?" for a likely slip, else "; <label>: a, b, c".
std::string hint(std::string_view word, const std::vector<std::string>& candidates, std::string_view label);
// Integral JSON numbers, including integral-valued floats such as 2e5.
std::optional<std::uint64_t> as_uint(const Json& j);
extern const Json kMissing;  // what a Node for an absent key points at

// JSON text with // and /* */ comments → a document; a key given twice or a syntax error is a
// ScenarioError naming the file and the place (pointer, or line and column).
Json parse_document(const std::string& text, const std::string& file);

// A place in the document: its JSON value (or none) and its pointer. Getters check and convert,
// and throw "FILE: POINTER: must be … (got …)" when the value does not fit.
class Node {
 public:
  Node(const Json& j, std::string ptr, const std::string& file, bool present = true)
      : j_(&j), ptr_(std::move(ptr)), file_(&file), present_(present) {}

  bool present() const { return present_; }
  const Json& json() const { return *j_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw ScenarioError(*file_ + ": " + (ptr_.empty() ? "" : ptr_ + ": ") + what);
  }
  [[noreturn]] void expected(const std::string& what) const {
    fail("must be " + what + (present_ ? " (got " + shown(*j_) + ")" : " (missing)"));
  }

  // --- objects ---
  // Checks that this is an object whose keys are all in `allowed`; "comment" (a string) is
  // allowed everywhere, for the author's notes and sources.
  void object(const std::vector<std::string>& allowed, const std::string& what = "an object") const {
    if (!present_ || !j_->is_object()) expected(what);
    for (const auto& [key, value] : j_->items()) {
      if (key == "comment") {
        if (!value.is_string()) (*this)[key].expected("a string");
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::vector<std::string> all = allowed;
        all.push_back("comment");
        (*this)[key].fail("unknown key" + hint(key, all, "allowed keys"));
      }
    }
  }
  Node operator[](std::string_view key) const {
    const std::string ptr = ptr_ + "/" + escape(key);
    if (present_ && j_->is_object())
      if (auto it = j_->find(key); it != j_->end()) return Node(*it, ptr, *file_);
    return Node(kMissing, ptr, *file_, false);
  }
  // The names of a name → spec map ("kinds", "pools"); "comment" is a note there too.
  std::vector<std::string> names() const {
    std::vector<std::string> k;
    for (const auto& item : j_->items()) {
      if (item.key() != "comment") k.push_back(item.key());
      else if (!item.value().is_string()) (*this)["comment"].expected("a string");
    }
    return k;
  }

  // --- arrays ---
  std::size_t array(const std::string& what = "an array") const {
    if (!present_ || !j_->is_array()) expected(what);
    return j_->size();
  }
  Node operator[](std::size_t i) const { return Node((*j_)[i], ptr_ + "/" + std::to_string(i), *file_); }

  // --- scalars ---
  std::string string() const {
    if (!present_ || !j_->is_string()) expected("a string");
    return j_->get<std::string>();
  }
  std::string name() const {
    if (!present_ || !j_->is_string() || j_->get_ref<const std::string&>().empty()) expected("a non-empty string");
    return j_->get<std::string>();
  }
  std::string choice(const std::vector<std::string>& options) const {
    if (present_ && j_->is_string() &&
        std::find(options.begin(), options.end(), j_->get_ref<const std::string&>()) != options.end())
      return j_->get<std::string>();
    std::string list;
    for (std::size_t i = 0; i < options.size(); ++i)
      list += (i == 0 ? "" : i + 1 == options.size() ? " or " : ", ") + ("\"" + options[i] + "\"");
    expected(list);
  }
  // The index of the name this value refers to in `names` (declared kinds, hosts, step ids).
  int reference(const std::vector<std::string>& names, const std::string& what) const {
    const std::string s = string();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == s) return static_cast<int>(i);
    fail("unknown " + what + " '" + s + "'" + hint(s, names, "declared"));
  }
  double number(const std::string& what = "a number") const {
    if (!present_ || !j_->is_number() || !std::isfinite(j_->get<double>())) expected(what);
    return j_->get<double>();
  }
  double positive() const {
    const double v = number("a positive number");
    if (!(v > 0)) expected("a positive number");
    return v;
  }
  double non_negative() const {
    const double v = number("a non-negative number");
    if (!(v >= 0)) expected("a non-negative number");
    return v;
  }
  double at_least(double lo) const {
    const double v = number("a number >= " + fmt(lo));
    if (!(v >= lo)) expected("a number >= " + fmt(lo));
    return v;
  }
  double probability() const {
    const double v = number("a probability between 0 and 1");
    if (!(v >= 0 && v <= 1)) expected("a probability between 0 and 1");
    return v;
  }
  int positive_int() const {
    const auto v = present_ ? as_uint(*j_) : std::nullopt;
    if (!v || *v < 1 || *v > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
      expected("a positive integer");
    return static_cast<int>(*v);
  }
  std::uint64_t count(bool positive) const {
    const auto v = present_ ? as_uint(*j_) : std::nullopt;
    if (!v || (positive && *v == 0)) expected(positive ? "a positive integer" : "a non-negative integer");
    return *v;
  }

 private:
  const Json* j_;
  std::string ptr_;
  const std::string* file_;
  bool present_;
};

template <class T>
T or_default(const Node& n, T (Node::*get)() const, T def) {
  return n.present() ? (n.*get)() : def;
}

}  // namespace stepq::jsonc
