// Number formats shared by the terminal tables, the progress line and the HTML report.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace stepq::format {

inline std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Seconds with three significant-ish digits: 0.0123, 1.23, 123, 12345.
inline std::string sec(double v) {
  if (v == 0) return "0";
  if (v < 0.01) return fmt("%.4f", v);
  if (v < 10) return fmt("%.3f", v);
  if (v < 1000) return fmt("%.1f", v);
  return fmt("%.0f", v);
}

// Seconds from a result's JSON, "–" where it holds none (null: unbounded or not measured).
inline std::string sec(const nlohmann::ordered_json& j) { return j.is_number() ? sec(j.get<double>()) : "–"; }

// A share as a whole percentage: 0.734 -> "73%".
inline std::string pct(double v) { return fmt("%.0f%%", 100 * v); }

// 1234567 -> "1,234,567".
inline std::string grouped(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

}  // namespace stepq::format
