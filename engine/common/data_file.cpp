#include "engine/common/data_file.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "engine/common/hash.hpp"

namespace ktune {

namespace {

Error corrupt(const std::string& message) { return make_error(Errc::corrupt, "not a valid .npy file: " + message); }

struct DtypeEntry {
  const char* code;  // without the byte-order character
  ElementType type;
  bool boolean;
};
constexpr DtypeEntry kDtypes[] = {
    {"f2", ElementType::f16, false}, {"f4", ElementType::f32, false}, {"f8", ElementType::f64, false},
    {"i1", ElementType::i8, false},  {"i2", ElementType::i16, false}, {"i4", ElementType::i32, false},
    {"i8", ElementType::i64, false}, {"u1", ElementType::u8, false},  {"u2", ElementType::u16, false},
    {"u4", ElementType::u32, false}, {"u8", ElementType::u64, false}, {"b1", ElementType::u8, true},
};

// The header's dictionary, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }: the
// Python literal NumPy writes, parsed as exactly that and nothing more (no expressions, no nesting).
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  Result<DataLayout> parse() {
    skip_space();
    if (!eat('{')) return corrupt("the header is not a dictionary");
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<std::uint64_t>> shape;
    for (;;) {
      skip_space();
      if (eat('}')) break;
      auto key = string_literal();
      if (!key) return corrupt("expected a quoted key in the header dictionary");
      skip_space();
      if (!eat(':')) return corrupt("expected ':' after '" + *key + "'");
      skip_space();
      if (*key == "descr") {
        if (descr) return corrupt("'descr' appears twice");
        descr = string_literal();
        if (!descr) return corrupt("'descr' must be a string such as '<f4' (structured dtypes are not supported)");
      } else if (*key == "fortran_order") {
        if (fortran) return corrupt("'fortran_order' appears twice");
        if (eat_word("True")) fortran = true;
        else if (eat_word("False")) fortran = false;
        else return corrupt("'fortran_order' must be True or False");
      } else if (*key == "shape") {
        if (shape) return corrupt("'shape' appears twice");
        auto dims = tuple();
        if (!dims) return dims.error();
        shape = std::move(*dims);
      } else {
        return corrupt("unknown key '" + *key + "' in the header");
      }
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat('}')) break;
      return corrupt("expected ',' or '}' in the header dictionary");
    }
    // NumPy pads with spaces and ends the header with a newline; nothing else may follow.
    while (pos_ < text_.size()) {
      if (text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\t' && text_[pos_] != '\r' && text_[pos_] != '\0')
        return corrupt("unexpected text after the header dictionary");
      ++pos_;
    }
    if (!descr || !fortran || !shape) return corrupt("the header must have 'descr', 'fortran_order' and 'shape'");

    DataLayout layout;
    auto dtype = dtype_of(*descr);
    if (!dtype) return dtype.error();
    layout.type = dtype->type;
    layout.boolean = dtype->boolean;
    layout.shape = std::move(*shape);
    if (*fortran && layout.shape.size() > 1)
      return make_error(Errc::unsupported, "Fortran (column-major) order is not supported: save the array with "
                                           "numpy.ascontiguousarray (C order)");
    layout.count = 1;
    for (std::uint64_t d : layout.shape)
      if (__builtin_mul_overflow(layout.count, d, &layout.count)) return corrupt("the shape's element count overflows");
    if (__builtin_mul_overflow(layout.count, element_size(layout.type), &layout.data_bytes))
      return corrupt("the shape's byte size overflows");
    return layout;
  }

 private:
  static Result<DtypeEntry> dtype_of(const std::string& descr) {
    if (descr.size() == 3 && descr[0] == '>' && descr[2] != '1')
      return make_error(Errc::unsupported, "big-endian data ('" + descr + "') is not supported: convert with "
                                           "array.astype(array.dtype.newbyteorder('<'))");
    if (descr.size() == 3) {
      const char order = descr[0];
      const std::string code = descr.substr(1);
      for (const auto& entry : kDtypes) {
        if (code != entry.code) continue;
        const bool single_byte = code[1] == '1';
        // One-byte types have no byte order ('|'); NumPy writes '<' for the others on every machine we run.
        if (order == '<' || order == '=' || (single_byte && (order == '|' || order == '>'))) return entry;
      }
    }
    return make_error(Errc::unsupported, "dtype '" + descr + "' is not supported (ktune reads <f2 <f4 <f8, |i1 <i2 <i4 <i8, "
                                         "|u1 <u2 <u4 <u8 and |b1)");
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eat_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  // 'text' or "text", no escapes (NumPy's keys and dtype strings have none).
  std::optional<std::string> string_literal() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return std::nullopt;
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos || end - pos_ > 64) return std::nullopt;
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) return std::nullopt;
    pos_ = end + 1;
    return value;
  }
  // (), (5,), (3, 4), (3, 4,): non-negative decimal integers.
  Result<std::vector<std::uint64_t>> tuple() {
    if (!eat('(')) return corrupt("'shape' must be a tuple of integers");
    std::vector<std::uint64_t> dims;
    for (;;) {
      skip_space();
      if (eat(')')) break;
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
        return corrupt("'shape' must be a tuple of non-negative integers");
      std::uint64_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        if (__builtin_mul_overflow(value, 10u, &value) ||
            __builtin_add_overflow(value, static_cast<std::uint64_t>(text_[pos_] - '0'), &value))
          return corrupt("a dimension of 'shape' overflows 64 bits");
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 longs in old files
      dims.push_back(value);
      if (dims.size() > kMaxNpyDimensions) return corrupt("'shape' has more than 32 dimensions");
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat(')')) break;
      return corrupt("expected ',' or ')' in 'shape'");
    }
    // (5) is the integer 5 in Python, not a tuple; NumPy writes (5,).
    return dims;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string with_path(const std::filesystem::path& path, const std::string& message) { return path.string() + ": " + message; }

constexpr std::size_t kChunkBytes = 8u << 20;

std::string digest_hex(XXH3_state_t* state) {
  XXH128_hash_t h = XXH3_128bits_digest(state);
  return Hash128{h.high64, h.low64}.hex();
}

struct XxhStateDeleter {
  void operator()(XXH3_state_t* s) const noexcept { XXH3_freeState(s); }
};
using XxhState = std::unique_ptr<XXH3_state_t, XxhStateDeleter>;

XxhState new_state() {
  XxhState state(XXH3_createState());
  if (!state) throw std::bad_alloc();
  XXH3_128bits_reset(state.get());
  return state;
}

// The file's size and its first bytes (enough for any header ktune accepts).
struct OpenedFile {
  std::ifstream in;
  std::uint64_t size = 0;
  std::string head;
};

Result<OpenedFile> open_file(const std::filesystem::path& path, DataFormat format) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return make_error(Errc::io, with_path(path, "no such file"));
  OpenedFile f;
  f.size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(Errc::io, with_path(path, "cannot read its size: " + ec.message()));
  f.in.open(path, std::ios::binary);
  if (!f.in) return make_error(Errc::io, with_path(path, "cannot open it"));
  if (format == DataFormat::npy) {
    f.head.resize(static_cast<std::size_t>(std::min<std::uint64_t>(f.size, kMaxNpyHeaderBytes + 12)));
    f.in.read(f.head.data(), static_cast<std::streamsize>(f.head.size()));
    if (!f.in) return make_error(Errc::io, with_path(path, "cannot read it"));
    f.in.seekg(0);
  }
  return f;
}

Result<DataLayout> layout_of(const std::filesystem::path& path, const OpenedFile& f, DataFormat format, ElementType raw_type) {
  auto layout = format == DataFormat::npy ? parse_npy_header(f.head, f.size) : raw_layout(raw_type, f.size);
  if (!layout) return make_error(layout.error().code, with_path(path, layout.error().message));
  return layout;
}

}  // namespace

std::string DataLayout::describe() const {
  std::string dims = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  dims += ")";
  return dims + " of " + (boolean ? std::string("bool") : std::string(element_type_name(type)));
}

Result<DataLayout> parse_npy_header(std::string_view head, std::uint64_t file_bytes) {
  static constexpr std::string_view magic = "\x93NUMPY";
  if (head.size() < 10 || head.substr(0, magic.size()) != magic) return corrupt("it does not start with \\x93NUMPY");
  const auto major = static_cast<unsigned char>(head[6]), minor = static_cast<unsigned char>(head[7]);
  if (major < 1 || major > 3 || minor != 0)
    return make_error(Errc::unsupported, "format version " + std::to_string(major) + "." + std::to_string(minor) +
                                             " is not supported (ktune reads 1.0, 2.0 and 3.0)");
  std::uint64_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(head[8]) | (static_cast<std::uint64_t>(static_cast<unsigned char>(head[9])) << 8);
    prefix = 10;
  } else {
    if (head.size() < 12) return corrupt("the file ends inside the header length");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::uint64_t>(static_cast<unsigned char>(head[8 + i])) << (8 * i);
    prefix = 12;
  }
  if (header_len > kMaxNpyHeaderBytes)
    return corrupt("the header claims " + std::to_string(header_len) + " bytes (at most 65536 accepted)");
  if (prefix + header_len > head.size() || prefix + header_len > file_bytes) return corrupt("the file ends inside the header");
  const std::string_view text = head.substr(prefix, header_len);
  // Versions 1 and 2 are Latin-1, 3 is UTF-8; the keys and values ktune accepts are plain ASCII.
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return corrupt("the header has non-ASCII characters");
  auto layout = HeaderParser(text).parse();
  if (!layout) return layout;
  layout->data_offset = prefix + header_len;
  const std::uint64_t available = file_bytes - layout->data_offset;
  if (available != layout->data_bytes)
    return corrupt("the header's shape " + layout->describe() + " needs " + std::to_string(layout->data_bytes) +
                   " bytes of data, the file has " + std::to_string(available));
  return layout;
}

Result<DataLayout> raw_layout(ElementType type, std::uint64_t file_bytes) {
  const std::size_t size = element_size(type);
  if (file_bytes % size != 0)
    return make_error(Errc::corrupt, "a raw file of " + std::string(element_type_name(type)) + " must be a multiple of " +
                                         std::to_string(size) + " bytes, it has " + std::to_string(file_bytes));
  DataLayout layout;
  layout.type = type;
  layout.count = file_bytes / size;
  layout.shape = {layout.count};
  layout.data_bytes = file_bytes;
  return layout;
}

Result<DataFileInfo> inspect_data_file(const std::filesystem::path& path, DataFormat format, ElementType raw_type) {
  auto file = open_file(path, format);
  if (!file) return file.error();
  auto layout = layout_of(path, *file, format, raw_type);
  if (!layout) return layout.error();
  XxhState state = new_state();
  std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(file->size, kChunkBytes)));
  for (std::uint64_t done = 0; done < file->size;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), file->size - done));
    file->in.read(chunk.data(), static_cast<std::streamsize>(n));
    if (!file->in) return make_error(Errc::io, with_path(path, "cannot read it"));
    XXH3_128bits_update(state.get(), chunk.data(), n);
    done += n;
  }
  return DataFileInfo{std::move(*layout), digest_hex(state.get())};
}

Status load_data_file(const std::filesystem::path& path, DataFormat format, ElementType type, std::span<std::byte> out,
                      std::string_view expected_digest) {
  auto file = open_file(path, format);
  if (!file) return file.error();
  auto layout = layout_of(path, *file, format, type);
  if (!layout) return layout.error();
  if (auto fits = check_layout_fits(*layout, type, out.size() / element_size(type));
      !fits || layout->data_bytes != out.size())
    return make_error(Errc::invalid_argument,
                      with_path(path, fits ? "holds " + std::to_string(layout->data_bytes) + " bytes of data, " +
                                                 std::to_string(out.size()) + " expected"
                                           : fits.error().message));
  XxhState state = new_state();
  std::string header(static_cast<std::size_t>(layout->data_offset), '\0');
  file->in.read(header.data(), static_cast<std::streamsize>(header.size()));
  if (!file->in) return make_error(Errc::io, with_path(path, "cannot read it"));
  XXH3_128bits_update(state.get(), header.data(), header.size());
  for (std::uint64_t done = 0; done < out.size();) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, out.size() - done));
    char* at = reinterpret_cast<char*>(out.data() + done);
    file->in.read(at, static_cast<std::streamsize>(n));
    if (!file->in) return make_error(Errc::io, with_path(path, "cannot read it"));
    XXH3_128bits_update(state.get(), at, n);
    done += n;
  }
  if (!expected_digest.empty() && digest_hex(state.get()) != expected_digest)
    return make_error(Errc::conflict, with_path(path, "changed since the spec was loaded (its digest differs); load the spec again"));
  return Ok{};
}

Status check_layout_fits(const DataLayout& layout, ElementType type, std::uint64_t count) {
  const bool type_fits = layout.type == type || (layout.boolean && type == ElementType::i8);
  if (!type_fits)
    return make_error(Errc::invalid_argument, "holds " + layout.describe() + ", the destination is " + element_type_name(type) +
                                                  " (convert with array.astype)");
  if (layout.count != count)
    return make_error(Errc::invalid_argument, "holds " + std::to_string(layout.count) + " elements " + layout.describe() +
                                                  ", the destination has " + std::to_string(count));
  return Ok{};
}

}  // namespace ktune
