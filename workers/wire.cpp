#include "workers/wire.hpp"

#include <bit>
#include <cstring>

namespace ktune::workers {
namespace {

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { little(v, 2); }
  void u32(std::uint32_t v) { little(v, 4); }
  void f64(double v) { little(std::bit_cast<std::uint64_t>(v), 8); }
  void str(std::string_view s) {
    if (s.size() > kMaxPayload) throw std::length_error("wire: string longer than the payload cap");
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void strs(const std::vector<std::string>& list) {
    u32(static_cast<std::uint32_t>(list.size()));
    for (const auto& s : list) str(s);
  }
  std::string take() { return std::move(out_); }

 private:
  void little(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
  }
  std::string out_;
};

// Every read checks the remaining length first; the first failure sticks and names the field.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::uint8_t u8(const char* field) { return static_cast<std::uint8_t>(little(1, field)); }
  std::uint16_t u16(const char* field) { return static_cast<std::uint16_t>(little(2, field)); }
  std::uint32_t u32(const char* field) { return static_cast<std::uint32_t>(little(4, field)); }
  double f64(const char* field) { return std::bit_cast<double>(little(8, field)); }
  std::string str(const char* field) {
    const std::uint32_t n = u32(field);
    if (!need(n, field)) return {};
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs(const char* field) {
    const std::uint32_t count = u32(field);
    // Each string costs at least its 4-byte length, so a count larger than that is a lie; checking
    // before reserving keeps a hostile count from allocating.
    if (!failed() && count > remaining() / 4) {
      fail(field, "count exceeds the remaining bytes");
      return {};
    }
    std::vector<std::string> list;
    list.reserve(count);
    for (std::uint32_t i = 0; i < count && !failed(); ++i) list.push_back(str(field));
    return list;
  }

  Status finish(const char* what) {
    if (!failed() && pos_ != bytes_.size()) fail(what, "trailing bytes after the last field");
    if (failed()) return make_error(Errc::corrupt, "wire: malformed " + std::string(what) + ": " + error_);
    return Ok{};
  }
  bool failed() const { return !error_.empty(); }
  void fail(const char* field, const char* why) {
    if (error_.empty()) error_ = std::string(field) + ": " + why;
  }

 private:
  std::size_t remaining() const { return bytes_.size() - pos_; }
  bool need(std::size_t n, const char* field) {
    if (failed()) return false;
    if (n > remaining()) {
      fail(field, "truncated");
      return false;
    }
    return true;
  }
  std::uint64_t little(int n, const char* field) {
    if (!need(static_cast<std::size_t>(n), field)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + static_cast<std::size_t>(i)])) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool known_type(std::uint16_t type) { return (type >= 1 && type <= 4) || (type >= 16 && type <= 18); }

void write_result(Writer& w, const CompileResult& r) {
  w.u8(static_cast<std::uint8_t>(r.status));
  w.str(r.cubin);
  w.strs(r.lowered_names);
  w.str(r.log);
  w.f64(r.compile_seconds);
}

CompileResult read_result(Reader& rd) {
  CompileResult r;
  const std::uint8_t status = rd.u8("status");
  if (status > kLastCompileStatus) rd.fail("status", "unknown value");
  r.status = static_cast<CompileStatus>(status);
  r.cubin = rd.str("cubin");
  r.lowered_names = rd.strs("lowered_names");
  r.log = rd.str("log");
  r.compile_seconds = rd.f64("compile_seconds");
  if (!(r.compile_seconds >= 0.0 && r.compile_seconds < 1e9)) rd.fail("compile_seconds", "out of range");
  return r;
}

}  // namespace

Result<FrameHeader> decode_frame_header(std::string_view header) {
  if (header.size() < kFrameHeaderSize) return make_error(Errc::corrupt, "wire: truncated frame header");
  Reader rd(header.substr(0, kFrameHeaderSize));
  const std::uint32_t magic = rd.u32("magic");
  const std::uint16_t version = rd.u16("version");
  const std::uint16_t type = rd.u16("type");
  const std::uint32_t length = rd.u32("length");
  if (magic != kWireMagic) return make_error(Errc::corrupt, "wire: bad magic (not a ktune worker frame)");
  if (version != kWireVersion)
    return make_error(Errc::unsupported, "wire: protocol version " + std::to_string(version) + ", this build speaks " +
                                             std::to_string(kWireVersion) + " (mixed ktune installations?)");
  if (!known_type(type)) return make_error(Errc::corrupt, "wire: unknown message type " + std::to_string(type));
  if (length > kMaxPayload)
    return make_error(Errc::corrupt, "wire: payload of " + std::to_string(length) + " bytes exceeds the cap");
  return FrameHeader{static_cast<MessageType>(type), length};
}

std::string encode_frame(MessageType type, std::string_view payload) {
  if (payload.size() > kMaxPayload) throw std::length_error("wire: payload exceeds kMaxPayload");
  Writer w;
  w.u32(kWireMagic);
  w.u16(kWireVersion);
  w.u16(static_cast<std::uint16_t>(type));
  w.u32(static_cast<std::uint32_t>(payload.size()));
  std::string frame = w.take();
  frame.append(payload);
  return frame;
}

Result<std::string_view> decode_frame(std::string_view frame, MessageType expected) {
  auto header = decode_frame_header(frame);
  if (!header) return header.error();
  if (header->type != expected) return make_error(Errc::corrupt, "wire: unexpected message type");
  if (frame.size() - kFrameHeaderSize != header->length)
    return make_error(Errc::corrupt, "wire: frame length does not match its header");
  return frame.substr(kFrameHeaderSize);
}

std::string encode_hello(const Hello& h) {
  Writer w;
  w.u32(h.protocol_version);
  w.u32(h.pid);
  w.str(h.nvrtc_version);
  w.u8(h.test_faults ? 1 : 0);
  return w.take();
}

Result<Hello> decode_hello(std::string_view payload) {
  Reader rd(payload);
  Hello h;
  h.protocol_version = rd.u32("protocol_version");
  h.pid = rd.u32("pid");
  h.nvrtc_version = rd.str("nvrtc_version");
  const std::uint8_t faults = rd.u8("test_faults");
  if (faults > 1) rd.fail("test_faults", "not a boolean");
  h.test_faults = faults == 1;
  if (auto s = rd.finish("hello"); !s) return s.error();
  return h;
}

std::string encode_job(const CompileJob& job) {
  Writer w;
  w.str(job.source);
  w.str(job.source_name);
  w.strs(job.name_expressions);
  w.strs(job.options);
  w.strs(job.defines);
  w.str(job.arch);
  w.u8(job.use_nvrtc_cache ? 1 : 0);
  return w.take();
}

Result<CompileJob> decode_job(std::string_view payload) {
  Reader rd(payload);
  CompileJob job;
  job.source = rd.str("source");
  job.source_name = rd.str("source_name");
  job.name_expressions = rd.strs("name_expressions");
  job.options = rd.strs("options");
  job.defines = rd.strs("defines");
  job.arch = rd.str("arch");
  const std::uint8_t flags = rd.u8("flags");
  if (flags > 1) rd.fail("flags", "unknown bits");
  job.use_nvrtc_cache = (flags & 1U) != 0;
  if (auto s = rd.finish("compile request"); !s) return s.error();
  return job;
}

std::string encode_result(const CompileResult& result) {
  Writer w;
  write_result(w, result);
  return w.take();
}

Result<CompileResult> decode_result(std::string_view payload) {
  Reader rd(payload);
  CompileResult r = read_result(rd);
  if (auto s = rd.finish("compile result"); !s) return s.error();
  return r;
}

std::string encode_cache_entry(const CacheEntry& entry) {
  Writer w;
  w.str(entry.key_hex);
  write_result(w, entry.result);
  return w.take();
}

Result<CacheEntry> decode_cache_entry(std::string_view payload) {
  Reader rd(payload);
  CacheEntry entry;
  entry.key_hex = rd.str("key");
  entry.result = read_result(rd);
  if (auto s = rd.finish("cache entry"); !s) return s.error();
  return entry;
}

}  // namespace ktune::workers
