// An append-only log of fixed-size records that lives in an unlinked temporary file, read back in
// the order written.
//
// Why: warm-up removal must remember every claim of the first half of a run in case the cut falls
// there (8 bytes a claim: 40 MB for a million sessions of skaha-basic), and most runs never read
// it. In a file the page cache holds it only while memory is free, and the process's memory stays
// that of the sessions in flight. The file goes to $TMPDIR (else /tmp) and is gone when the log is.
#pragma once
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace stepq::sim {

// Opens an unlinked temporary file for reading and writing; throws std::runtime_error saying
// where and why it could not.
std::FILE* open_spill_file();

template <class T>
class SpillLog {
  static_assert(std::is_trivially_copyable_v<T>, "records are written as bytes");

 public:
  SpillLog() = default;
  SpillLog(SpillLog&& o) noexcept : buf_(std::move(o.buf_)), file_(std::exchange(o.file_, nullptr)), n_(o.n_) {}
  SpillLog& operator=(SpillLog&&) = delete;
  ~SpillLog() {
    if (file_) std::fclose(file_);
  }

  void push(const T& r) {
    if (buf_.capacity() == 0) buf_.reserve(kChunk);
    buf_.push_back(r);
    ++n_;
    if (buf_.size() == kChunk) write_out();
  }
  std::uint64_t size() const { return n_; }

  // Calls f(record) for every record, oldest first.
  template <class F>
  void for_each(F&& f) {
    if (!file_) {
      for (const T& r : buf_) f(r);
      return;
    }
    write_out();
    std::rewind(file_);
    std::vector<T> chunk(kChunk);
    for (std::size_t got; (got = std::fread(chunk.data(), sizeof(T), kChunk, file_)) > 0;)
      for (std::size_t i = 0; i < got; ++i) f(chunk[i]);
    if (std::ferror(file_)) throw std::runtime_error("warm-up removal: cannot read back its temporary file");
    std::fseek(file_, 0, SEEK_END);
  }

 private:
  static constexpr std::size_t kChunk = 1 << 13;
  void write_out() {
    if (buf_.empty()) return;
    if (!file_) file_ = open_spill_file();
    if (std::fwrite(buf_.data(), sizeof(T), buf_.size(), file_) != buf_.size())
      throw std::runtime_error(
          "warm-up removal: cannot write its temporary file (is the disk full? --warmup none "
          "needs none)");
    buf_.clear();
  }

  std::vector<T> buf_;
  std::FILE* file_ = nullptr;
  std::uint64_t n_ = 0;
};

}  // namespace stepq::sim
