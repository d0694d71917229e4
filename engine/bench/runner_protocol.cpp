#include "engine/bench/runner_protocol.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <utility>

namespace ktune::bench {

namespace {

using json = nlohmann::json;

std::string pack(const json& header, const std::vector<std::string_view>& blobs = {}) {
  std::string text = header.dump();
  std::string out(4, '\0');
  const auto size = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xff);
  out += text;
  for (auto blob : blobs) out.append(blob);
  return out;
}

struct Unpacked {
  json header;
  std::string_view rest;
};

Result<Unpacked> unpack(std::string_view payload) {
  if (payload.size() < 4) return make_error(Errc::corrupt, "runner message shorter than its header length");
  std::uint32_t size = 0;
  for (int i = 0; i < 4; ++i) size |= static_cast<std::uint32_t>(static_cast<unsigned char>(payload[static_cast<std::size_t>(i)])) << (8 * i);
  if (size > payload.size() - 4) return make_error(Errc::corrupt, "runner message header runs past the message");
  Unpacked out;
  try {
    out.header = json::parse(payload.substr(4, size));
  } catch (const json::exception& e) {
    return make_error(Errc::corrupt, std::string("runner message header is not JSON: ") + e.what());
  }
  if (!out.header.is_object()) return make_error(Errc::corrupt, "runner message header is not an object");
  out.rest = payload.substr(4 + size);
  return out;
}

// nlohmann's get<int>() converts whatever number it finds: 1e300 read as an int is undefined
// behaviour, and -1 read as a size wraps. Every integer of a message is read through this, which
// refuses both the way a wrong type is refused (`guarded` turns it into an error).
template <class T>
T integer(const json& v) {
  if (v.is_number_unsigned()) {
    if (const auto x = v.get<std::uint64_t>(); std::in_range<T>(x)) return static_cast<T>(x);
  } else if (v.is_number_integer()) {
    if (const auto x = v.get<std::int64_t>(); std::in_range<T>(x)) return static_cast<T>(x);
  } else {
    throw json::type_error::create(302, std::string("expected an integer, got ") + v.type_name(), nullptr);
  }
  throw json::out_of_range::create(406, "integer " + v.dump() + " is out of range", nullptr);
}

json stats_json(const SampleStats& s) {
  return {{"median_ns", s.median_ns}, {"min_ns", s.min_ns}, {"mean_ns", s.mean_ns},
          {"stddev_ns", s.stddev_ns}, {"noise", s.noise},   {"samples", s.samples}};
}

SampleStats stats_from(const json& j) {
  SampleStats s;
  s.median_ns = j.at("median_ns").get<double>();
  s.min_ns = j.at("min_ns").get<double>();
  s.mean_ns = j.at("mean_ns").get<double>();
  s.stddev_ns = j.at("stddev_ns").get<double>();
  s.noise = j.at("noise").get<double>();
  s.samples = integer<std::size_t>(j.at("samples"));
  return s;
}

template <class F>
auto guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const json::exception& e) {
    return make_error(Errc::corrupt, std::string("malformed ") + what + ": " + e.what());
  }
}

}  // namespace

const char* measure_status_name(MeasureStatus status) noexcept {
  switch (status) {
    case MeasureStatus::ok: return "ok";
    case MeasureStatus::invalid_config: return "invalid_config";
    case MeasureStatus::launch_error: return "launch_error";
    case MeasureStatus::wrong_result: return "wrong_result";
    case MeasureStatus::timeout: return "timeout";
    case MeasureStatus::crash: return "crash";
    case MeasureStatus::pruned: return "pruned";
  }
  return "unknown";
}

std::optional<MeasureStatus> parse_measure_status(std::string_view name) noexcept {
  for (auto s : {MeasureStatus::ok, MeasureStatus::invalid_config, MeasureStatus::launch_error, MeasureStatus::wrong_result,
                 MeasureStatus::timeout, MeasureStatus::crash, MeasureStatus::pruned})
    if (name == measure_status_name(s)) return s;
  return std::nullopt;
}

std::string encode_hello(const RunnerHello& h) {
  const auto& d = h.device;
  json device = {{"ordinal", d.ordinal},
                 {"name", d.name},
                 {"pci_bus_id", d.pci_bus_id},
                 {"cc", {d.cc_major, d.cc_minor}},
                 {"arch", d.arch},
                 {"sms", d.multiprocessors},
                 {"memory", d.total_memory},
                 {"l2", d.l2_cache_bytes},
                 {"smem_block", d.max_shared_memory_per_block},
                 {"smem_optin", d.max_shared_memory_per_block_optin},
                 {"smem_sm", d.max_shared_memory_per_sm},
                 {"regs_block", d.max_registers_per_block},
                 {"threads_block", d.max_threads_per_block},
                 {"threads_sm", d.max_threads_per_sm},
                 {"block_dim", d.max_block_dim},
                 {"grid_dim", d.max_grid_dim},
                 {"clock_khz", d.clock_khz}};
  return pack({{"version", kRunnerProtocolVersion}, {"ok", h.ok}, {"error", h.error}, {"device", device}, {"cupti", h.cupti}, {"pid", h.pid}});
}

Result<RunnerHello> decode_hello(std::string_view payload) {
  auto u = unpack(payload);
  if (!u) return u.error();
  return guarded("runner hello", [&]() -> Result<RunnerHello> {
    const json& j = u->header;
    if (integer<int>(j.at("version")) != kRunnerProtocolVersion)
      return make_error(Errc::corrupt, "ktune-runner speaks protocol " + j.at("version").dump() + ", expected " +
                                           std::to_string(kRunnerProtocolVersion) + " (mismatched binaries?)");
    RunnerHello h;
    h.ok = j.at("ok").get<bool>();
    h.error = j.at("error").get<std::string>();
    h.cupti = j.at("cupti").get<bool>();
    h.pid = integer<int>(j.at("pid"));
    const json& d = j.at("device");
    auto& out = h.device;
    out.ordinal = integer<int>(d.at("ordinal"));
    out.name = d.at("name").get<std::string>();
    out.pci_bus_id = d.at("pci_bus_id").get<std::string>();
    out.cc_major = integer<int>(d.at("cc").at(0));
    out.cc_minor = integer<int>(d.at("cc").at(1));
    out.arch = d.at("arch").get<std::string>();
    out.multiprocessors = integer<int>(d.at("sms"));
    out.total_memory = integer<std::size_t>(d.at("memory"));
    out.l2_cache_bytes = integer<int>(d.at("l2"));
    out.max_shared_memory_per_block = integer<int>(d.at("smem_block"));
    out.max_shared_memory_per_block_optin = integer<int>(d.at("smem_optin"));
    out.max_shared_memory_per_sm = integer<int>(d.at("smem_sm"));
    out.max_registers_per_block = integer<int>(d.at("regs_block"));
    out.max_threads_per_block = integer<int>(d.at("threads_block"));
    out.max_threads_per_sm = integer<int>(d.at("threads_sm"));
    for (std::size_t i = 0; i < 3; ++i) {
      out.max_block_dim[i] = integer<int>(d.at("block_dim").at(i));
      out.max_grid_dim[i] = integer<int>(d.at("grid_dim").at(i));
    }
    out.clock_khz = integer<int>(d.at("clock_khz"));
    return h;
  });
}

std::string encode_request(const RunnerRequest& r) {
  if (r.op == RunnerOp::quit) return pack({{"op", "quit"}});
  if (r.op == RunnerOp::problem) {
    json buffers = json::array();
    for (const auto& b : r.problem.buffers)
      buffers.push_back({{"name", b.name},
                         {"type", static_cast<int>(b.type)},
                         {"count", b.count},
                         {"bytes", b.bytes},
                         {"init", {static_cast<int>(b.init.kind), b.init.low, b.init.high, b.init.value, b.init.seed}},
                         {"output", b.output}});
    json args = json::array();
    for (const auto& a : r.problem.args) args.push_back({a.is_buffer, a.index});
    return pack({{"op", "problem"}, {"buffers", buffers}, {"args", args}, {"total_bytes", r.problem.total_bytes}});
  }
  const auto& o = r.options;
  json options = {{"min_samples", o.rule.min_samples}, {"max_samples", o.rule.max_samples}, {"max_noise", o.rule.max_noise},
                  {"budget_seconds", o.rule.budget_seconds}, {"prune_after", o.rule.prune_after},
                  {"prune_factor", o.rule.prune_factor}, {"flush_l2", o.flush_l2},
                  {"best_median_ns", o.best_median_ns ? json(*o.best_median_ns) : json(nullptr)},
                  {"kernel_timeout_seconds", o.kernel_timeout_seconds}, {"warmup_seconds", o.warmup_seconds},
                  {"verify", static_cast<int>(o.verify)}, {"rtol", o.rtol}, {"atol", o.atol},
                  {"use_cupti", o.use_cupti}};
  json jobs = json::array();
  std::vector<std::string_view> blobs;
  for (const auto& job : r.jobs) {
    json scalars = json::array();
    for (const auto& s : job.launch.scalars) scalars.push_back({static_cast<int>(s.type), s.integer, s.floating, s.is_floating});
    const auto& shape = job.launch.shape;
    jobs.push_back({{"label", job.label},
                    {"lowered_name", job.lowered_name},
                    {"cubin_bytes", job.cubin.size()},
                    {"grid", shape.grid},
                    {"block", shape.block},
                    {"shared", shape.dynamic_shared_bytes},
                    {"scalars", scalars}});
    blobs.push_back(job.cubin);
  }
  return pack({{"op", "measure"}, {"options", options}, {"jobs", jobs}}, blobs);
}

Result<RunnerRequest> decode_request(std::string_view payload) {
  auto u = unpack(payload);
  if (!u) return u.error();
  return guarded("runner request", [&]() -> Result<RunnerRequest> {
    const json& j = u->header;
    RunnerRequest r;
    const std::string op = j.at("op").get<std::string>();
    if (op == "quit") return r;
    auto element_type = [](const json& v) {
      int t = integer<int>(v);
      if (t < 0 || t > static_cast<int>(ElementType::f64)) throw json::other_error::create(501, "bad element type", nullptr);
      return static_cast<ElementType>(t);
    };
    if (op == "problem") {
      r.op = RunnerOp::problem;
      for (const auto& b : j.at("buffers")) {
        BufferPlan plan;
        plan.name = b.at("name").get<std::string>();
        plan.type = element_type(b.at("type"));
        plan.count = integer<std::uint64_t>(b.at("count"));
        plan.bytes = integer<std::uint64_t>(b.at("bytes"));
        // The product can wrap (2^62 halfs are 0 bytes mod 2^64), so it is checked, not compared.
        std::uint64_t bytes = 0;
        if (__builtin_mul_overflow(plan.count, element_size(plan.type), &bytes) || bytes != plan.bytes)
          return make_error(Errc::corrupt, "buffer " + plan.name + ": byte size does not match its count");
        if (plan.bytes > kMaxProblemBytes || r.problem.total_bytes + plan.bytes > kMaxProblemBytes)
          return make_error(Errc::corrupt, "buffer " + plan.name + ": the problem would exceed 1 TiB");
        const json& init = b.at("init");
        int kind = integer<int>(init.at(0));
        if (kind < 0 || kind > static_cast<int>(BufferInit::Kind::iota)) return make_error(Errc::corrupt, "bad init kind");
        plan.init.kind = static_cast<BufferInit::Kind>(kind);
        plan.init.low = init.at(1).get<double>();
        plan.init.high = init.at(2).get<double>();
        plan.init.value = init.at(3).get<double>();
        plan.init.seed = integer<std::uint64_t>(init.at(4));
        plan.output = b.at("output").get<bool>();
        r.problem.buffers.push_back(plan);
        r.problem.total_bytes += plan.bytes;
      }
      for (const auto& a : j.at("args")) {
        ArgSlot slot{a.at(0).get<bool>(), integer<std::size_t>(a.at(1))};
        if (slot.is_buffer && slot.index >= r.problem.buffers.size()) return make_error(Errc::corrupt, "argument names a missing buffer");
        r.problem.args.push_back(slot);
      }
      return r;
    }
    if (op != "measure") return make_error(Errc::corrupt, "unknown runner operation '" + op + "'");
    r.op = RunnerOp::measure;
    const json& o = j.at("options");
    r.options.rule.min_samples = integer<std::size_t>(o.at("min_samples"));
    r.options.rule.max_samples = integer<std::size_t>(o.at("max_samples"));
    r.options.rule.max_noise = o.at("max_noise").get<double>();
    r.options.rule.budget_seconds = o.at("budget_seconds").get<double>();
    r.options.rule.prune_after = integer<std::size_t>(o.at("prune_after"));
    r.options.rule.prune_factor = o.at("prune_factor").get<double>();
    r.options.flush_l2 = o.at("flush_l2").get<bool>();
    if (!o.at("best_median_ns").is_null()) r.options.best_median_ns = o.at("best_median_ns").get<double>();
    r.options.kernel_timeout_seconds = o.at("kernel_timeout_seconds").get<double>();
    r.options.warmup_seconds = o.at("warmup_seconds").get<double>();
    int verify = integer<int>(o.at("verify"));
    if (verify < 0 || verify > static_cast<int>(VerifyMode::compare)) return make_error(Errc::corrupt, "bad verify mode");
    r.options.verify = static_cast<VerifyMode>(verify);
    r.options.rtol = o.at("rtol").get<double>();
    r.options.atol = o.at("atol").get<double>();
    r.options.use_cupti = o.at("use_cupti").get<bool>();
    std::string_view rest = u->rest;
    for (const auto& jj : j.at("jobs")) {
      KernelJob job;
      job.label = jj.at("label").get<std::string>();
      job.lowered_name = jj.at("lowered_name").get<std::string>();
      const auto bytes = integer<std::size_t>(jj.at("cubin_bytes"));
      if (bytes > rest.size()) return make_error(Errc::corrupt, "cubin of " + job.label + " runs past the message");
      job.cubin.assign(rest.substr(0, bytes));
      rest.remove_prefix(bytes);
      for (std::size_t i = 0; i < 3; ++i) {
        job.launch.shape.grid[i] = integer<std::int64_t>(jj.at("grid").at(i));
        job.launch.shape.block[i] = integer<std::int64_t>(jj.at("block").at(i));
      }
      job.launch.shape.dynamic_shared_bytes = integer<std::int64_t>(jj.at("shared"));
      for (const auto& s : jj.at("scalars")) {
        ScalarArg arg;
        arg.type = element_type(s.at(0));
        arg.integer = integer<std::int64_t>(s.at(1));
        arg.floating = s.at(2).get<double>();
        arg.is_floating = s.at(3).get<bool>();
        job.launch.scalars.push_back(arg);
      }
      r.jobs.push_back(std::move(job));
    }
    if (!rest.empty()) return make_error(Errc::corrupt, "runner request has trailing bytes");
    return r;
  });
}

std::string encode_response(const RunnerResponse& r) {
  json results = json::array();
  for (const auto& m : r.results)
    results.push_back({{"status", measure_status_name(m.status)}, {"message", m.message}, {"stats", stats_json(m.stats)},
                       {"timer", m.timer}, {"registers", m.registers}, {"static_shared", m.static_shared_bytes},
                       {"local", m.local_bytes}, {"clock_mhz", m.sm_clock_mhz}, {"dropped", m.dropped_samples},
                       {"max_abs_error", m.max_abs_error}, {"max_rel_error", m.max_rel_error}, {"wall", m.wall_seconds}});
  return pack({{"ok", r.ok}, {"error", r.error}, {"results", results}, {"poisoned", r.poisoned}});
}

Result<RunnerResponse> decode_response(std::string_view payload) {
  auto u = unpack(payload);
  if (!u) return u.error();
  return guarded("runner response", [&]() -> Result<RunnerResponse> {
    const json& j = u->header;
    RunnerResponse r;
    r.ok = j.at("ok").get<bool>();
    r.error = j.at("error").get<std::string>();
    r.poisoned = j.at("poisoned").get<bool>();
    for (const auto& m : j.at("results")) {
      KernelMeasurement k;
      auto status = parse_measure_status(m.at("status").get<std::string>());
      if (!status) return make_error(Errc::corrupt, "unknown measurement status " + m.at("status").dump());
      k.status = *status;
      k.message = m.at("message").get<std::string>();
      k.stats = stats_from(m.at("stats"));
      k.timer = m.at("timer").get<std::string>();
      k.registers = integer<int>(m.at("registers"));
      k.static_shared_bytes = integer<int>(m.at("static_shared"));
      k.local_bytes = integer<int>(m.at("local"));
      k.sm_clock_mhz = integer<unsigned>(m.at("clock_mhz"));
      k.dropped_samples = integer<std::size_t>(m.at("dropped"));
      k.max_abs_error = m.at("max_abs_error").get<double>();
      k.max_rel_error = m.at("max_rel_error").get<double>();
      k.wall_seconds = m.at("wall").get<double>();
      r.results.push_back(std::move(k));
    }
    return r;
  });
}

}  // namespace ktune::bench
