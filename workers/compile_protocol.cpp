#include "workers/compile_protocol.hpp"

#include "workers/process/codec.hpp"

namespace ktune::workers {
namespace {

using process::Reader;
using process::Writer;

bool known_type(std::uint16_t type) { return type >= 1 && type <= 4; }

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
  auto decoded = process::decode_frame_header(header);
  if (!decoded) return decoded.error();
  if (!known_type(decoded->type)) return make_error(Errc::corrupt, "wire: unknown message type " + std::to_string(decoded->type));
  return FrameHeader{static_cast<MessageType>(decoded->type), decoded->length};
}

std::string encode_frame(MessageType type, std::string_view payload) { return process::encode_frame(frame_type(type), payload); }

Result<std::string_view> decode_frame(std::string_view frame, MessageType expected) {
  if (auto header = decode_frame_header(frame); !header) return header.error();
  return process::decode_frame(frame, frame_type(expected));
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
  w.u8(static_cast<std::uint8_t>((job.use_nvrtc_cache ? 1 : 0) | (job.use_pch ? 2 : 0)));
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
  if (flags > 3) rd.fail("flags", "unknown bits");
  job.use_nvrtc_cache = (flags & 1U) != 0;
  job.use_pch = (flags & 2U) != 0;
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
