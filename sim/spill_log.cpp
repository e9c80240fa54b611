#include "spill_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace stepq::sim {

std::FILE* open_spill_file() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/stepq-warmup-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0)
    throw std::runtime_error("warm-up removal: cannot create a temporary file in " + path.substr(0, path.rfind('/')) +
                             ": " + std::strerror(errno) + " (set TMPDIR to a writable directory, or --warmup none)");
  unlink(path.c_str());  // nothing left behind, whatever happens to the process
  std::FILE* f = fdopen(fd, "w+b");
  if (!f) {
    close(fd);
    throw std::runtime_error(std::string("warm-up removal: cannot open its temporary file: ") + std::strerror(errno));
  }
  return f;
}

}  // namespace stepq::sim
