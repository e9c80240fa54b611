// Downloads with libcurl, hashing as the bytes arrive (OpenSSL EVP), into a temporary name that
// is renamed only once size and checksum are right.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "local_services.hpp"

namespace stepq::local {

namespace {

struct Sink {
  std::FILE* f;
  EVP_MD_CTX* md;
  std::uint64_t bytes = 0;
};

std::size_t on_data(char* p, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const std::size_t len = size * n;
  if (std::fwrite(p, 1, len, s->f) != len) return 0;  // disk full: curl reports a write error
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
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::error_code ec;
  std::filesystem::create_directories(dest.parent_path(), ec);
  const std::filesystem::path part =
      dest.string() + ".part-" + std::to_string(getpid()) + "-" +
      std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000000);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(part.c_str(), "wb"), &std::fclose);
  if (!f) return {false, false, "cannot write " + part.string()};
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  Sink sink{f.get(), md.get()};

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
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
  const CURLcode rc = curl_easy_perform(curl.get());
  const bool closed = std::fclose(f.release()) == 0;
  auto fail = [&](const std::string& why) -> OpResult {
    std::filesystem::remove(part, ec);
    return {false, false, why};
  };
  if (rc != CURLE_OK) return fail("fetching " + url + ": " + (*err ? err : curl_easy_strerror(rc)));
  if (!closed) return fail("writing " + part.string() + " failed");
  if (size && static_cast<double>(sink.bytes) != *size)
    return fail("fetching " + url + ": got " + std::to_string(sink.bytes) + " bytes, expected " +
                std::to_string(static_cast<std::uint64_t>(*size)));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  const std::string got = hex(digest, len);
  if (!sha256.empty() && got != sha256) return fail("fetching " + url + ": sha256 " + got + ", expected " + sha256);
  std::filesystem::rename(part, dest, ec);
  if (ec) return fail("renaming " + part.string() + " to " + dest.string() + ": " + ec.message());
  return {};
}

}  // namespace stepq::local
