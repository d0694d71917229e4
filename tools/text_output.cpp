#include "tools/text_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <utility>

#include "engine/store_file.hpp"
#include "tools/commands.hpp"

namespace ktune::cli {

namespace {

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

[[noreturn]] void refuse(const std::string& target, const std::string& why) {
  throw CliFailure("refusing to write to '" + target + "': " + why + "; nothing was written");
}

[[noreturn]] void failed(const std::string& target, const std::string& what, int error) {
  throw CliFailure("cannot write '" + target + "': " + what + ": " + std::strerror(error) +
                   "; the target was left as it was");
}

// Owns one file descriptor; closing is checked separately by whoever needs the result.
class Descriptor {
 public:
  explicit Descriptor(int fd) noexcept : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const noexcept { return fd_; }
  // close(2) can report a failed deferred write (NFS, quota): the caller must see it.
  int close_checked() noexcept {
    const int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Removes the temporary file unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const noexcept { return path_; }
  void keep() noexcept { path_.clear(); }

 private:
  std::string path_;
};

// 0 on success, else errno. Retries short writes and EINTR.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::string first_bytes(const std::filesystem::path& path, std::size_t count) {
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return {};
  std::string bytes(count, '\0');
  const ssize_t n = ::read(fd.get(), bytes.data(), count);
  bytes.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return bytes;
}

mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

bool same_file(const struct stat& a, const std::filesystem::path& other) {
  struct stat b {};
  return ::stat(other.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// A regular file may be replaced only when nothing in it can be lost: it is empty or a table
// ktune itself wrote. Stores (by identity, or by content: any SQLite database or its WAL) never.
void check_replaceable(const std::string& target, const std::filesystem::path& resolved, const struct stat& st,
                       const std::vector<std::filesystem::path>& stores) {
  for (const auto& store : stores)
    if (same_file(st, store)) refuse(target, "it is the store " + quoted(store));
  if (st.st_nlink > 1) refuse(target, "it has other hard links, which a replacement would separate from it");
  if (st.st_size == 0) return;
  const std::string head = first_bytes(resolved, 256);
  if (head.rfind(std::string("SQLite format 3") + '\0', 0) == 0) refuse(target, "it is an SQLite database (a store?)");
  if (head.size() >= 4 && (head.compare(0, 4, "\x37\x7f\x06\x82") == 0 || head.compare(0, 4, "\x37\x7f\x06\x83") == 0))
    refuse(target, "it is an SQLite write-ahead log");
  if (head.find("\"format\": \"" + std::string(kTableFormatName) + "\"") == std::string::npos)
    refuse(target, "it exists and is not a lookup table ktune wrote (remove it first to replace it)");
}

void replace_regular_file(const std::string& target, const std::filesystem::path& resolved, std::string_view text) {
  const std::filesystem::path folder = resolved.has_parent_path() ? resolved.parent_path() : ".";
  std::string pattern = (folder / ("." + resolved.filename().string() + ".ktune-XXXXXX")).string();
  const int raw = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (raw < 0) failed(target, "cannot create a temporary file in " + quoted(folder), errno);
  Descriptor fd(raw);
  TempFile temp(pattern);
  // mkostemp makes the file 0600; an exported table is as readable as any file the user creates.
  (void)::fchmod(fd.get(), 0666 & ~current_umask());
  if (int e = write_all(fd.get(), text)) failed(target, "writing", e);
  if (::fsync(fd.get()) != 0) failed(target, "fsync", errno);
  if (int e = fd.close_checked()) failed(target, "closing", e);
  if (::rename(temp.path().c_str(), resolved.c_str()) != 0) failed(target, "renaming the temporary file over it", errno);
  temp.keep();
  // The rename is durable only once the folder is: a crash after exit must not bring back the old file.
  Descriptor dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) (void)::fsync(dir.get());
}

void write_into_special_file(const std::string& target, std::string_view text) {
  // No O_CREAT, no O_TRUNC: the node stays what it is; writing into it is what was asked.
  Descriptor fd(::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) failed(target, "opening", errno);
  if (int e = write_all(fd.get(), text)) failed(target, "writing", e);
  if (int e = fd.close_checked()) failed(target, "closing", e);
}

// `error` 0: the failing write happened inside an earlier printf, whose errno is gone by now.
std::string standard_output_failure(int error) {
  const std::string why = error != 0 ? std::strerror(error) : "a write failed (disk full, or the reader went away)";
  return "cannot write to standard output: " + why + "; the output is incomplete";
}

}  // namespace

void write_text_output(const std::string& target, std::string_view text, const std::vector<std::filesystem::path>& stores) {
  if (target.empty()) refuse(target, "an empty file name");
  struct stat link {};
  if (::lstat(target.c_str(), &link) != 0) {
    if (errno != ENOENT) failed(target, "cannot inspect it", errno);
    replace_regular_file(target, target, text);
    return;
  }
  struct stat st = link;
  if (S_ISLNK(link.st_mode) && ::stat(target.c_str(), &st) != 0) refuse(target, "it is a symbolic link to nothing");
  // Before resolving the name: /dev/stdout leads to /proc/self/fd/1, which may be "pipe:[...]".
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    write_into_special_file(target, text);
    return;
  }
  std::filesystem::path resolved = target;
  if (S_ISLNK(link.st_mode)) {
    std::error_code ec;
    resolved = std::filesystem::canonical(target, ec);
    if (ec) refuse(target, "its symbolic link cannot be resolved: " + ec.message());
  }
  if (S_ISDIR(st.st_mode)) refuse(target, "it is a folder");
  if (!S_ISREG(st.st_mode)) refuse(target, "it is a device, not a regular file");
  check_replaceable(target, resolved, st, stores);
  replace_regular_file(target, resolved, text);
}

void write_standard_output(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw CliFailure(standard_output_failure(errno));
}

void finish_standard_output() {
  std::cout.flush();
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (!flushed || std::ferror(stdout) || !std::cout) {
    std::clearerr(stdout);
    throw CliFailure(standard_output_failure(error));
  }
}

}  // namespace ktune::cli
