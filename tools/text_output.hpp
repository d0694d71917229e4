#pragma once
// Where a command's text goes when the user names a file with -o, and the check that every byte
// written to standard output arrived (issue 14, "Lost").
//
// What `-o PATH` may do to PATH:
//   missing             a new regular file: temp file in the same folder, fsync, rename, fsync folder
//   regular file        replaced the same way, but only when it is empty or a lookup table ktune
//                       wrote; never a store (SQLite header, or the same file as a store path)
//   character device,   written into directly (/dev/stdout, /dev/null, a terminal, a FIFO): the
//   FIFO, socket        node itself is never replaced
//   symbolic link       followed: the rules above apply to what it points to; the link stays
//   anything else       refused (folder, block device, dangling link)
// Every write, the fsync and the close are checked; a failure is one CliFailure line naming PATH,
// and the target is left as it was.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ktune::cli {

// `stores`: store files the output must never replace (the --db store, the default store).
void write_text_output(const std::string& target, std::string_view text,
                       const std::vector<std::filesystem::path>& stores);

// Writes `text` to standard output and flushes it; a failed write is one CliFailure line.
void write_standard_output(std::string_view text);

// Called once when a command ends: flushes stdout (C and C++ streams) and reports a failed or
// short write as one CliFailure line, so `ktune show > /dev/full` cannot exit 0.
void finish_standard_output();

}  // namespace ktune::cli
