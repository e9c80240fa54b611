// Downloads with libcurl, hashing as the bytes arrive (OpenSSL EVP), into a temporary name that
// is renamed only once size and checksum are right.
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "backends/http/client.hpp"
#include "local_services.hpp"

namespace stepq::local {

namespace {

struct Sink {
  int fd;
  EVP_MD_CTX* md;
  std::optional<double> limit;  // the expected size: more than this is a failure at once
  std::uint64_t bytes = 0;
  bool too_big = false;
  int write_errno = 0;  // disk full, say
};

std::size_t on_data(char* p, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const std::size_t len = size * n;
  if (s->limit && static_cast<double>(s->bytes + len) > *s->limit) {
    s->too_big = true;
    return 0;  // curl stops with a write error
  }
  for (std::size_t done = 0; done < len;) {
    const ssize_t w = ::write(s->fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s->write_errno = w < 0 ? errno : ENOSPC;
      return 0;  // curl stops with a write error
    }
    done += static_cast<std::size_t>(w);
  }
  EVP_DigestUpdate(s->md, p, len);
  s->bytes += len;
  return len;
}

std::string hex(const unsigned char* d, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) s += digits[d[i] >> 4], s += digits[d[i] & 15];
  return s;
}

}  // namespace

OpResult fetch(const std::string& url, const std::filesystem::path& dest, std::optional<double> size,
               const std::string& sha256) {
  http::init_once();

  std::error_code ec;
  std::filesystem::create_directories(dest.parent_path(), ec);
  // A unique temporary name beside the destination (same file system, so the rename is atomic):
  // concurrent fetches of the same file never share one, and readers never see a partial file.
  std::string part = dest.string() + ".part-XXXXXX";
  const int fd = ::mkostemp(part.data(), O_CLOEXEC);
  if (fd < 0)
    return {false, false, "cannot create a file in " + dest.parent_path().string() + ": " + std::strerror(errno)};
  ::fchmod(fd, 0644);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  Sink sink{fd, md.get(), size};
  auto fail = [&](const std::string& why) -> OpResult {
    if (sink.fd >= 0) ::close(sink.fd);
    std::filesystem::remove(part, ec);
    return {false, false, why};
  };
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return fail("OpenSSL: cannot start a sha256");

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return fail("fetching " + url + ": libcurl could not start");
  char err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);  // HTTP 4xx/5xx is a failure, not a file
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);  // stalled for 60 s: give up
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);  // many threads: no SIGALRM timeouts
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");  // a server may not redirect to file:
  const CURLcode rc = curl_easy_perform(curl.get());
  const bool closed = ::close(sink.fd) == 0;
  sink.fd = -1;
  const std::string expected = size ? std::to_string(static_cast<std::uint64_t>(*size)) : "";
  if (sink.too_big) return fail("fetching " + url + ": more than the expected " + expected + " bytes");
  if (sink.write_errno) return fail("fetching " + url + ": writing " + part + ": " + std::strerror(sink.write_errno));
  if (rc != CURLE_OK) return fail("fetching " + url + ": " + (*err ? err : curl_easy_strerror(rc)));
  if (!closed) return fail("writing " + part + " failed");
  if (size && static_cast<double>(sink.bytes) != *size)
    return fail("fetching " + url + ": got " + std::to_string(sink.bytes) + " bytes, expected " + expected);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  const std::string got = hex(digest, len);
  if (!sha256.empty() && got != sha256)
    return fail("fetching " + url + ": sha256 mismatch: got " + got + ", expected " + sha256);
  std::filesystem::rename(part, dest, ec);
  if (ec) return fail("renaming " + part + " to " + dest.string() + ": " + ec.message());
  return {};
}

}  // namespace stepq::local
