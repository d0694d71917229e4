#pragma once
// Data files a spec names (inputs, reference answers, constant memory): NumPy .npy files and raw
// little-endian files. The reader is strict because the files come from users and other tools:
// .npy format versions 1.0, 2.0 and 3.0; little-endian (or byte-order-free) dtypes f2 f4 f8,
// i1..i8, u1..u8 and b1 (read as uint8); C order; the shape's element count must match the data
// that follows the header exactly. Anything else is an error that names the file and the problem.
// The spec reads a file's layout and digest when it is loaded (docs/keys.md: the digest is the
// data's identity); the runner reads the data and checks the digest again, so a file changed in
// between is an error rather than a measurement on other data.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/element_type.hpp"
#include "engine/common/result.hpp"

namespace ktune {

enum class DataFormat : std::uint8_t { npy, raw };
inline constexpr std::uint8_t kLastDataFormat = static_cast<std::uint8_t>(DataFormat::raw);

// The largest .npy header accepted (NumPy itself refuses headers over 10000 bytes by default).
inline constexpr std::size_t kMaxNpyHeaderBytes = 65536;
inline constexpr std::size_t kMaxNpyDimensions = 32;

struct DataLayout {
  ElementType type = ElementType::f32;
  bool boolean = false;               // NumPy's b1: one byte per element, read as uint8
  std::vector<std::uint64_t> shape;   // raw files: one dimension, the element count
  std::uint64_t count = 0;            // elements (the product of the shape; 1 for shape ())
  std::uint64_t data_offset = 0;      // where the data starts in the file
  std::uint64_t data_bytes = 0;       // count * element size == file size - data_offset
  // "(3, 4) of float" — for messages.
  std::string describe() const;
};

// Parses the header of a .npy file from its first bytes (`head`, at least the whole header;
// more is fine) and checks it against the file's size. Errors are Errc::corrupt (the file is not
// a well-formed .npy) or Errc::unsupported (well-formed, but not something ktune reads).
Result<DataLayout> parse_npy_header(std::string_view head, std::uint64_t file_bytes);
// The layout of a raw file of `type` elements: the file size must be a multiple of the element size.
Result<DataLayout> raw_layout(ElementType type, std::uint64_t file_bytes);

// A data file's layout and the xxh3-128 digest (hex) of its whole contents (header included).
struct DataFileInfo {
  DataLayout layout;
  std::string digest;
};
// `raw_type` is the element type of a raw file (ignored for .npy). Every error message starts
// with the file's path.
Result<DataFileInfo> inspect_data_file(const std::filesystem::path& path, DataFormat format, ElementType raw_type);

// Reads the data of a file into `out`: `type` elements filling it exactly (a raw file's element
// type; a .npy file's dtype must be the same, check_layout_fits). Checks
// that the file still has the layout and the digest (`expected_digest`, hex; empty: not checked)
// it had when the spec was loaded.
Status load_data_file(const std::filesystem::path& path, DataFormat format, ElementType type, std::span<std::byte> out,
                      std::string_view expected_digest);

// Whether data of `layout` can fill `count` elements of `type`: the same element type (a b1 file
// fills uint8 or int8) and the same element count. The error says what differs, without a path.
Status check_layout_fits(const DataLayout& layout, ElementType type, std::uint64_t count);

}  // namespace ktune
