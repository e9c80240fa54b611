// `--help` that fits 100 columns: CLI11 prints an option's description as written beside a
// 30-column name, so long lines ran past the terminal's edge. This formatter wraps each line of
// a description at the width left beside the names.
#pragma once
#include <CLI/CLI.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace stepq {

class WrappingFormatter : public CLI::Formatter {
 public:
  static constexpr std::size_t kColumns = 100;

  std::string make_option_desc(const CLI::Option* opt) const override {
    return wrap(CLI::Formatter::make_option_desc(opt));
  }
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true), wrap(sub->get_description()), get_column_width());
    return out.str();
  }

 private:
  // A line break written after a sentence or a label (".", ":") starts a new line; one written
  // mid-sentence only wrapped the text for a narrower column, so it is joined and wrapped again.
  std::string wrap(const std::string& text) const {
    const std::size_t width = kColumns - get_column_width();
    std::vector<std::string> paras;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
      if (!paras.empty() && !paras.back().empty() && paras.back().back() != '.' && paras.back().back() != ':')
        paras.back() += " " + l;
      else paras.push_back(l);
    }
    std::string out, line;
    bool first = true;
    for (const std::string& para : paras) {
      if (!first) out += '\n';
      first = false;
      std::istringstream words(para);
      line.clear();
      for (std::string w; words >> w;) {
        if (!line.empty() && line.size() + 1 + w.size() > width) {
          out += line + '\n';
          line.clear();
        }
        line += (line.empty() ? "" : " ") + w;
      }
      out += line;
    }
    return out;
  }
};

}  // namespace stepq
