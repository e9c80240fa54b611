#include "term_style.hpp"

#include <unistd.h>

#include <cstdlib>

namespace stepq {

TermStyle TermStyle::for_fd(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  return {::isatty(fd) == 1 && (no_color == nullptr || *no_color == '\0')};
}

}  // namespace stepq
