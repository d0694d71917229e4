#include "workers/nvrtc_compiler.hpp"

#include "workers/precompiled_headers.hpp"

#include <nvrtc.h>

#include <chrono>
#include <new>
#include <optional>
#include <utility>

namespace ktune::workers {
namespace {

// One owner per nvrtcProgram: every return path destroys it.
class NvrtcProgram {
 public:
  NvrtcProgram() = default;
  NvrtcProgram(const NvrtcProgram&) = delete;
  NvrtcProgram& operator=(const NvrtcProgram&) = delete;
  ~NvrtcProgram() {
    if (program_ != nullptr) nvrtcDestroyProgram(&program_);
  }
  nvrtcProgram* out() noexcept { return &program_; }
  nvrtcProgram get() const noexcept { return program_; }

 private:
  nvrtcProgram program_ = nullptr;
};

std::string program_log(nvrtcProgram program) {
  std::size_t size = 0;
  if (nvrtcGetProgramLogSize(program, &size) != NVRTC_SUCCESS || size <= 1) return {};
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(program, log.data()) != NVRTC_SUCCESS) return {};
  log.resize(size - 1);  // drop the terminating NUL
  return log;
}

CompileResult failure(CompileStatus status, std::string log) {
  CompileResult r;
  r.status = status;
  r.log = std::move(log);
  return r;
}

CompileStatus classify(nvrtcResult rc) {
  switch (rc) {
    case NVRTC_ERROR_OUT_OF_MEMORY: return CompileStatus::out_of_memory;
    case NVRTC_ERROR_COMPILATION:
    case NVRTC_ERROR_INVALID_OPTION:
    case NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID:
    case NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION: return CompileStatus::compile_error;
    default: return CompileStatus::internal;
  }
}

enum class Output : std::uint8_t { cubin, ptx };
CompileResult compile(const CompileJob& job, Output output, PrecompiledHeaders* pch, bool retried);

std::string call_failed(const char* call, nvrtcResult rc) {
  return std::string("nvrtc: ") + call + " failed: " + nvrtcGetErrorString(rc);
}

void field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

void list(std::string& out, const char* name, const std::vector<std::string>& values) {
  out += name;
  out += ' ';
  out += std::to_string(values.size());
  out += '\n';
  for (const auto& v : values) field(out, v);
}

}  // namespace

std::string normalised_define(const std::string& define) {
  return define.starts_with("-D") ? define : "-D" + define;
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string cubin_canonical_form(const CompileJob& job, const std::string& version) {
  std::string out = "ktune-cubin-key 1\n";
  out += "nvrtc ";
  field(out, version);
  out += "arch ";
  field(out, job.arch);
  out += "source_name ";
  field(out, job.source_name);
  out += "source ";
  field(out, job.source);
  list(out, "names", job.name_expressions);
  std::vector<std::string> defines;
  defines.reserve(job.defines.size());
  for (const auto& d : job.defines) defines.push_back(normalised_define(d));
  list(out, "defines", defines);
  list(out, "options", job.options);
  return out;
}

Hash128 cubin_key(const CompileJob& job, const std::string& version) {
  return xxh3_128(cubin_canonical_form(job, version));
}

CompileResult compile_with_nvrtc(const CompileJob& job, PrecompiledHeaders* pch) {
  const bool ptx = job.arch.starts_with("compute_");
  return compile(job, ptx ? Output::ptx : Output::cubin, ptx || !job.use_pch ? nullptr : pch, false);
}

namespace {

// Where a PCH applies: the rewritten source and options (workers/precompiled_headers.hpp).
struct PchPlan {
  PchCompile form;
  std::string key;
  bool creating = false;
};

std::optional<PchPlan> plan_pch(const CompileJob& job, PrecompiledHeaders* pch) {
  if (pch == nullptr) return std::nullopt;
  PchPlan plan{pch_compile_form(job), {}, false};
  if (plan.form.prefix.empty()) return std::nullopt;
  std::string identity = nvrtc_version() + "\n" + job.arch + "\n";
  for (const auto& o : plan.form.options) identity += o + "\n";
  identity += plan.form.prefix;
  plan.key = xxh3_128(identity).hex();
  plan.form.options.push_back(pch->option_for(plan.key, plan.creating));
  plan.form.options.emplace_back("--pch-messages=false");
  return plan;
}

// Before a compile that creates a PCH: NVRTC's default heap is too small for CUTLASS
// (kInitialPchHeapBytes). Set once, before any PCH exists: resizing invalidates them.
void ensure_pch_heap(PrecompiledHeaders& pch) {
  std::size_t heap = 0;
  if (pch.created_count() == 0 && nvrtcGetPCHHeapSize(&heap) == NVRTC_SUCCESS && heap < kInitialPchHeapBytes)
    nvrtcSetPCHHeapSize(kInitialPchHeapBytes);
}

// After a compile that was to create a PCH: keep it, or grow the heap to what it needs (which
// makes every earlier PCH of this process unusable). True: the heap grew, compile again.
bool record_pch(nvrtcProgram program, const PchPlan& plan, PrecompiledHeaders& pch) {
  const nvrtcResult status = nvrtcGetPCHCreateStatus(program);
  pch.created(plan.key, status == NVRTC_SUCCESS);
  if (status != NVRTC_ERROR_PCH_CREATE_HEAP_EXHAUSTED) return false;
  std::size_t required = 0, heap = 0;
  if (nvrtcGetPCHHeapSizeRequired(program, &required) != NVRTC_SUCCESS || nvrtcGetPCHHeapSize(&heap) != NVRTC_SUCCESS ||
      required <= heap || nvrtcSetPCHHeapSize(required + (required >> 3)) != NVRTC_SUCCESS)
    return false;
  pch.forget_all();
  return true;
}

CompileResult compile(const CompileJob& job, Output output, PrecompiledHeaders* pch, bool retried) {
  try {
    const std::optional<PchPlan> pch_plan = plan_pch(job, pch);
    if (pch_plan && pch_plan->creating) ensure_pch_heap(*pch);
    const std::string& source = pch_plan ? pch_plan->form.source : job.source;
    NvrtcProgram program;
    nvrtcResult rc =
        nvrtcCreateProgram(program.out(), source.c_str(), job.source_name.c_str(), 0, nullptr, nullptr);
    if (rc != NVRTC_SUCCESS) return failure(classify(rc) == CompileStatus::out_of_memory ? CompileStatus::out_of_memory
                                                                                         : CompileStatus::internal,
                                            call_failed("nvrtcCreateProgram", rc));
    for (const auto& name : job.name_expressions) {
      rc = nvrtcAddNameExpression(program.get(), name.c_str());
      if (rc != NVRTC_SUCCESS) return failure(classify(rc), call_failed("nvrtcAddNameExpression", rc) + " for " + name);
    }

    // A real architecture so NVRTC emits SASS (a CUBIN); compute_NN only when PTX is asked for.
    std::vector<std::string> options;
    options.push_back("--gpu-architecture=" + job.arch);
    if (pch_plan) {
      options.insert(options.end(), pch_plan->form.options.begin(), pch_plan->form.options.end());
    } else {
      for (const auto& d : job.defines) options.push_back(normalised_define(d));
      options.insert(options.end(), job.options.begin(), job.options.end());
    }
    if (!job.use_nvrtc_cache) options.emplace_back("--no-cache");
    std::vector<const char*> argv;
    argv.reserve(options.size());
    for (const auto& o : options) argv.push_back(o.c_str());

    const auto start = std::chrono::steady_clock::now();
    rc = nvrtcCompileProgram(program.get(), static_cast<int>(argv.size()), argv.data());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (pch_plan && pch_plan->creating) {
      const bool heap_grew = record_pch(program.get(), *pch_plan, *pch);
      // NVRTC 13.0 can fail a compile that created a CUTLASS PCH without a word in the log (the
      // PCH itself is good): such a job, and one whose PCH ran out of heap, compiles once more.
      const bool created_but_failed = rc != NVRTC_SUCCESS && pch->created_count() > 0 &&
                                      nvrtcGetPCHCreateStatus(program.get()) == NVRTC_SUCCESS;
      if ((heap_grew || created_but_failed) && !retried) return compile(job, output, pch, true);
    }
    CompileResult result;
    result.compile_seconds = seconds;
    result.log = program_log(program.get());
    if (rc != NVRTC_SUCCESS) {
      result.status = classify(rc);
      if (result.log.empty()) result.log = call_failed("nvrtcCompileProgram", rc);
      return result;
    }

    std::size_t size = 0;
    if (output == Output::ptx) {
      rc = nvrtcGetPTXSize(program.get(), &size);
      if (rc != NVRTC_SUCCESS || size == 0) return failure(CompileStatus::internal, call_failed("nvrtcGetPTXSize", rc));
      result.cubin.resize(size);
      rc = nvrtcGetPTX(program.get(), result.cubin.data());
      if (rc != NVRTC_SUCCESS) return failure(CompileStatus::internal, call_failed("nvrtcGetPTX", rc));
      result.cubin.resize(size - 1);  // drop the terminating NUL
    } else {
      rc = nvrtcGetCUBINSize(program.get(), &size);
      if (rc != NVRTC_SUCCESS || size == 0) {
        // NVRTC only produces a CUBIN for a real sm_XX architecture.
        result.status = CompileStatus::compile_error;
        result.log += (result.log.empty() ? "" : "\n") + std::string("nvrtc: no CUBIN for --gpu-architecture=") +
                      job.arch + " (a real architecture such as sm_90 is needed)";
        return result;
      }
      result.cubin.resize(size);
      rc = nvrtcGetCUBIN(program.get(), result.cubin.data());
      if (rc != NVRTC_SUCCESS) return failure(CompileStatus::internal, call_failed("nvrtcGetCUBIN", rc));
    }

    for (const auto& name : job.name_expressions) {
      const char* lowered = nullptr;
      rc = nvrtcGetLoweredName(program.get(), name.c_str(), &lowered);
      if (rc != NVRTC_SUCCESS || lowered == nullptr) {
        result.status = CompileStatus::compile_error;
        result.cubin.clear();
        result.lowered_names.clear();
        result.log += (result.log.empty() ? "" : "\n") + call_failed("nvrtcGetLoweredName", rc) + " for " + name;
        return result;
      }
      result.lowered_names.emplace_back(lowered);
    }
    result.status = CompileStatus::ok;
    return result;
  } catch (const std::bad_alloc&) {
    return failure(CompileStatus::out_of_memory, "out of memory while compiling");
  } catch (const std::exception& e) {
    return failure(CompileStatus::internal, std::string("compile failed: ") + e.what());
  }
}

}  // namespace

}  // namespace ktune::workers
