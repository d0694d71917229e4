#include "store/store_integrity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace ktune::store {

namespace {

constexpr std::size_t kHeaderBytes = 100;
constexpr char kMagic[] = "SQLite format 3";  // followed by a NUL: 16 bytes

std::uint32_t big_endian(const unsigned char* p, int bytes) {
  std::uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

Error damaged(const std::filesystem::path& path, const std::string& why) {
  return make_error(Errc::corrupt, "store '" + path.string() + "' is damaged: " + why +
                                       "; nothing was changed (`ktune doctor --store " + path.string() +
                                       "` checks every page)");
}

bool exists_non_empty(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

// Closes on every path out.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Status check_store_header(const std::filesystem::path& path) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return Ok{};  // missing, or not readable: the open itself reports that
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return Ok{};
  std::array<unsigned char, kHeaderBytes> h{};
  const ssize_t got = ::pread(file.fd, h.data(), h.size(), 0);
  // Not an SQLite file at all is the schema check's to report ("not a ktune store").
  if (got < 16 || std::memcmp(h.data(), kMagic, 16) != 0) return Ok{};
  if (got < static_cast<ssize_t>(kHeaderBytes)) return damaged(path, "the file ends inside its 100-byte header");

  std::uint32_t page_size = big_endian(&h[16], 2);
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0)
    return damaged(path, "the header's page size " + std::to_string(page_size) + " is not a power of two in 512..65536");
  if ((h[18] != 1 && h[18] != 2) || (h[19] != 1 && h[19] != 2))
    return damaged(path, "the header's file format bytes are " + std::to_string(h[18]) + "/" + std::to_string(h[19]));
  if (h[21] != 64 || h[22] != 32 || h[23] != 32) return damaged(path, "the header's payload fractions are wrong");
  if (h[20] > 32) return damaged(path, "the header reserves " + std::to_string(h[20]) + " bytes a page");

  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size % page_size != 0)
    return damaged(path, "its size " + std::to_string(size) + " is not a whole number of " +
                             std::to_string(page_size) + "-byte pages");
  // The recorded page count is authoritative only when it was written with the last change and
  // no -wal or hot journal holds a newer state (a checkpoint in progress grows the file later).
  const std::uint32_t recorded = big_endian(&h[28], 4);
  const bool count_valid = recorded != 0 && big_endian(&h[24], 4) == big_endian(&h[92], 4);
  const std::string name = path.string();
  const bool mid_update = exists_non_empty(name + "-wal") || exists_non_empty(name + "-journal");
  if (count_valid && !mid_update && recorded != size / page_size)
    return damaged(path, "its header records " + std::to_string(recorded) + " pages but the file holds " +
                             std::to_string(size / page_size) + (recorded > size / page_size ? " (cut short)" : ""));
  const std::uint32_t free_pages = big_endian(&h[36], 4);
  if (count_valid && free_pages >= recorded)
    return damaged(path, "its header lists " + std::to_string(free_pages) + " free pages of " + std::to_string(recorded));
  return Ok{};
}

Status check_root_pages(const Database& db, const std::filesystem::path& path) {
  const std::string name = path.string();
  if (exists_non_empty(name + "-wal") || exists_non_empty(name + "-journal")) return Ok{};
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return Ok{};
  unsigned char size_bytes[2] = {};
  if (::pread(file.fd, size_bytes, 2, 16) != 2) return Ok{};
  std::uint32_t page_size = big_endian(size_bytes, 2);
  if (page_size == 1) page_size = 65536;
  auto roots = db.prepare("SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0");
  if (!roots) return roots.error();
  for (;;) {
    auto row = roots->step();
    if (!row) return row.error();
    if (!*row) break;
    const std::int64_t page = roots->column_int(1);
    // Page 1 starts with the 100-byte file header; its b-tree header follows it.
    const off_t offset = static_cast<off_t>(page - 1) * page_size + (page == 1 ? 100 : 0);
    unsigned char type = 0;
    if (::pread(file.fd, &type, 1, offset) != 1)
      return damaged(path, "the root page " + std::to_string(page) + " of " + roots->column_text(0) + " is past the end of the file");
    if (type != 2 && type != 5 && type != 10 && type != 13)
      return damaged(path, "the root page " + std::to_string(page) + " of " + roots->column_text(0) + " is not a b-tree page");
  }
  return Ok{};
}

Result<std::vector<std::string>> check_store_pages(const Database& db) {
  auto stmt = db.prepare("PRAGMA integrity_check");
  if (!stmt) return stmt.error();
  std::vector<std::string> problems;
  for (;;) {
    auto row = stmt->step();
    if (!row) {
      // A page so damaged that the check itself cannot go on is one more problem, not a failure to check.
      if (row.error().code != Errc::corrupt) return row.error();
      problems.push_back(row.error().message);
      break;
    }
    if (!*row) break;
    std::string text = stmt->column_text(0);
    if (text != "ok") problems.push_back(std::move(text));
  }
  return problems;
}

}  // namespace ktune::store
