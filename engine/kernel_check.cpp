#include "engine/kernel_check.hpp"

#include <algorithm>
#include <future>
#include <optional>
#include <set>
#include <string_view>

#include "engine/compile_service.hpp"
#include "engine/model/entry_pattern.hpp"
#include "engine/model/instantiate.hpp"
#include "tuner/search_space.hpp"
#include "workers/compile_pool.hpp"

namespace ktune {
namespace {

struct CppType {
  bool pointer = false;
  std::string base;  // "float", "unsigned int", "__half": qualifiers and the '*' removed
};

// "float const* __restrict__" -> pointer to "float"; "int" -> "int".
CppType parse_cpp_type(std::string text) {
  CppType out;
  auto strip_word = [&](std::string_view word) {
    for (std::size_t at; (at = text.find(word)) != std::string::npos;) {
      const bool left = at == 0 || text[at - 1] == ' ' || text[at - 1] == '*';
      const std::size_t end = at + word.size();
      const bool right = end == text.size() || text[end] == ' ' || text[end] == '*';
      if (!left || !right) break;
      text.erase(at, word.size());
    }
  };
  for (std::string_view q : {"__restrict__", "__restrict", "restrict", "const", "volatile"}) strip_word(q);
  while (!text.empty() && (text.back() == ' ' || text.back() == '*')) {
    if (text.back() == '*') out.pointer = true;
    text.pop_back();
  }
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  out.base = text;
  return out;
}

// The scalar types the C++ runtime's demangler writes, as ktune's element types.
std::optional<ElementType> element_of(const std::string& base) {
  static const std::pair<std::string_view, ElementType> table[] = {
      {"float", ElementType::f32}, {"double", ElementType::f64}, {"__half", ElementType::f16},
      {"__nv_bfloat16", ElementType::bf16}, {"char", ElementType::i8}, {"signed char", ElementType::i8},
      {"unsigned char", ElementType::u8}, {"bool", ElementType::u8}, {"short", ElementType::i16},
      {"unsigned short", ElementType::u16}, {"int", ElementType::i32}, {"unsigned int", ElementType::u32},
      {"long", ElementType::i64}, {"unsigned long", ElementType::u64}, {"long long", ElementType::i64},
      {"unsigned long long", ElementType::u64}};
  for (const auto& [name, type] : table)
    if (base == name) return type;
  return std::nullopt;
}

constexpr std::size_t kTensorMapBytes = 128;

std::string spec_type_text(const Argument& arg) {
  if (arg.tensor_map) return "tensor_map";
  return std::string(element_type_name(arg.type)) + (arg.is_buffer ? "*" : "");
}

std::string param_text(const workers::KernelParam& p) {
  return p.cpp_type.empty() ? p.ptx_type + " (" + std::to_string(p.bytes) + " bytes)" : "\"" + p.cpp_type + "\"";
}

}  // namespace

Status compare_signature(const KernelSpec& spec, const workers::KernelSignature& signature, std::optional<std::size_t> stage,
                         bool setup) {
  const std::string kernel = signature.demangled.empty() ? signature.lowered_name : signature.demangled;
  // A pipeline's kernel, or a setup kernel, takes the spec's arguments it lists, in its order.
  std::vector<const Argument*> args;
  if (stage) {
    for (std::size_t a : (setup ? spec.setup : spec.pipeline).at(*stage).args) args.push_back(&spec.args[a]);
  } else {
    for (const auto& arg : spec.args) args.push_back(&arg);
  }
  const std::string listed = stage ? std::string(setup ? "setup[" : "pipeline[") + std::to_string(*stage) + "].args" : "args";
  if (signature.params.size() != args.size())
    return make_error(Errc::invalid_spec, listed + ": the kernel " + kernel + " takes " + std::to_string(signature.params.size()) +
                                              " parameters, the spec lists " + std::to_string(args.size()));
  for (std::size_t i = 0; i < args.size(); ++i) {
    const Argument& arg = *args[i];
    const workers::KernelParam& param = signature.params[i];
    const std::string where = stage ? listed + "[" + std::to_string(i) + "] (" + arg.name + ")" : "args." + arg.name;
    const std::string which = "the kernel's parameter " + std::to_string(i + 1) + " is " + param_text(param);
    auto mismatch = [&](const std::string& why) {
      return make_error(Errc::invalid_spec, where + ": " + which + ", the spec says " + spec_type_text(arg) + why);
    };
    // A TMA descriptor is 128 bytes by value (CUtensorMap, CuTe's TmaDescriptor): its name varies,
    // its size does not.
    if (arg.tensor_map) {
      if (param.bytes != kTensorMapBytes || (!param.cpp_type.empty() && parse_cpp_type(param.cpp_type).pointer))
        return make_error(Errc::invalid_spec, where + ": " + which + ", the spec says tensor_map (a " +
                                                  std::to_string(kTensorMapBytes) + "-byte CUtensorMap by value: "
                                                  "const __grid_constant__ CUtensorMap " + arg.name + ")");
      continue;
    }
    if (!param.cpp_type.empty()) {
      const CppType cpp = parse_cpp_type(param.cpp_type);
      if (cpp.pointer != arg.is_buffer)
        return mismatch(arg.is_buffer ? " (a buffer needs a pointer parameter)" : " (a scalar cannot be passed to a pointer)");
      const auto element = element_of(cpp.base);
      if (!arg.is_buffer) {
        // A struct or enum by value: its size is all the parameter list tells.
        if (!element) {
          if (param.bytes != element_size(arg.type)) return mismatch(" (" + std::to_string(param.bytes) + " bytes against " +
                                                                     std::to_string(element_size(arg.type)) + ")");
          continue;
        }
        if (element_size(*element) != element_size(arg.type) || is_floating(*element) != is_floating(arg.type) ||
            (is_floating(arg.type) && *element != arg.type))
          return mismatch("");
      } else if (element && element_size(*element) != element_size(arg.type)) {
        // float4* for a float buffer is a choice; int* for a double buffer is a mistake.
        return mismatch(" (elements of " + std::to_string(element_size(*element)) + " bytes against " +
                        std::to_string(element_size(arg.type)) + ")");
      }
      continue;
    }
    // extern "C": sizes and the PTX class only; a pointer is 8 bytes of .u64/.b64.
    if (arg.is_buffer) {
      if (param.bytes != 8 || param.ptx_type.starts_with(".f"))
        return mismatch(" (a buffer needs a pointer parameter)");
      continue;
    }
    if (param.bytes != element_size(arg.type))
      return mismatch(" (" + std::to_string(param.bytes) + " bytes against " + std::to_string(element_size(arg.type)) + ")");
    if (param.ptx_type.starts_with(".f") && !is_floating(arg.type)) return mismatch(" (a floating-point parameter)");
    if ((param.ptx_type.starts_with(".u") || param.ptx_type.starts_with(".s")) && is_floating(arg.type))
      return mismatch(" (an integer parameter)");
  }
  return Ok{};
}

namespace {

// One kernel to check: which kernel (its place in launch order) and a configuration that launches
// it under the entry it resolves to there.
struct KernelToCheck {
  std::size_t kernel = 0;
  Config config;
};

// The default's kernels, then, for entries that name parameters, one valid configuration per
// other entry they resolve to (the first found), so each distinct kernel is checked once.
Result<std::vector<KernelToCheck>> kernels_to_check(const KernelSpec& spec, const Sizes* sizes) {
  std::vector<KernelToCheck> out;
  std::vector<std::set<std::string>> seen;
  auto add = [&](const Config& config) {
    const std::vector<std::string> entries = spec.resolved_entries_for(config);
    seen.resize(entries.size());
    for (std::size_t k = 0; k < entries.size(); ++k)
      if (seen[k].insert(entries[k]).second) out.push_back({k, config});
  };
  add(spec.default_config);
  if (!spec.has_entry_pattern()) return out;
  // Every combination of the named parameters' values is one entry at most: stop once all are seen.
  std::set<std::string> named;
  for (const std::string& pattern : spec.entries()) {
    auto params = entry_pattern_params(pattern, spec.space);
    if (!params) return make_error(Errc::invalid_spec, "entry: " + params.error().message);
    named.insert(params->begin(), params->end());
  }
  std::uint64_t combinations = 1;  // saturates: past 2^32 the scan simply reads every valid configuration
  for (const auto& name : named)
    combinations = std::min<std::uint64_t>(
        combinations * spec.space.params[static_cast<std::size_t>(spec.space.param_index(name))].values.size(), 1ull << 32);
  auto space = SearchSpace::build(spec.space, sizes);
  if (!space) return space.error();
  std::set<std::vector<std::int64_t>> combinations_seen;
  for (std::uint64_t i = 0; i < space->valid_count() && combinations_seen.size() < combinations; ++i) {
    const Config config = space->config_at(i);
    std::vector<std::int64_t> values;
    for (const auto& name : named) values.push_back(*find_value(config, name));
    if (combinations_seen.insert(std::move(values)).second) add(config);
  }
  return out;
}

// "(entry "k_block{BLOCK}" at BLOCK=64)": where a resolved entry came from, for messages.
std::string pattern_origin(const KernelSpec& spec, std::size_t kernel, const Config& config) {
  const std::string pattern = spec.entries().at(kernel);
  if (!is_entry_pattern(pattern)) return "";
  std::string at;
  for (const auto& name : entry_pattern_params(pattern, spec.space).value_or_throw())
    at += (at.empty() ? "" : " ") + name + "=" + spec.space.value_text(name, *find_value(config, name));
  return " (entry \"" + pattern + "\" at " + at + ")";
}

}  // namespace

Result<std::vector<workers::KernelSignature>> check_kernel_signatures(const KernelSpec& spec, const std::string& arch,
                                                                     CompileService* service, const Sizes* sizes) {
  // Such a source may need its sizes to compile at all (an array sized by a size, say); compiled
  // without them it would fail, or pass, for reasons that are not the spec's.
  if (spec.sizes_to_preprocessor && sizes == nullptr) {
    std::string names;
    for (const auto& size : spec.space.size_names) names += (names.empty() ? "" : ",") + size + "=...";
    return make_error(Errc::invalid_argument,
                      "the entry and args check needs sizes: the spec passes its sizes to the preprocessor "
                      "(\"sizes_to_preprocessor\"), so its kernels compile only at sizes; give them (--size " + names + ")");
  }
  auto to_check = kernels_to_check(spec, sizes);
  if (!to_check) return to_check.error();
  // Setup kernels have plain entries: checked once, in the default configuration.
  for (std::size_t i = 0; i < spec.setup.size(); ++i) to_check->push_back({spec.entries().size() + i, spec.default_config});
  std::vector<workers::KernelSignature> out;
  // One PTX compile per kernel (each with its own name expression), so a name NVRTC cannot
  // resolve is blamed on its own pipeline stage and its own configuration.
  for (const auto& [kernel, config] : *to_check) {
    workers::CompileJob job = make_compile_job(spec, config, arch, /*use_nvrtc_cache=*/true, sizes);
    job.name_expressions = {job.name_expressions.at(kernel)};
    Result<workers::KernelSignature> signature = make_error(Errc::internal, "not checked");
    if (service == nullptr) {
      signature = workers::read_kernel_signature(job);
    } else {
      std::promise<workers::CompileResult> done;
      auto answer = done.get_future();
      service->pool().submit(workers::signature_job(job), [&done](workers::CompileResult r) { done.set_value(std::move(r)); });
      signature = workers::read_kernel_signature(answer.get(), job.name_expressions.front());
    }
    // The launched kernels come first, then the setup kernels (name_expressions_for).
    const std::size_t launched = spec.entries().size();
    const bool setup = kernel >= launched;
    const std::optional<std::size_t> stage = setup ? std::optional<std::size_t>(kernel - launched)
                                             : spec.is_pipeline() ? std::optional<std::size_t>(kernel)
                                                                  : std::nullopt;
    const std::string origin = setup ? std::string() : pattern_origin(spec, kernel, config);
    if (!signature) {
      Error error = signature.error();
      if (stage && error.message.starts_with("entry: "))
        error.message = std::string(setup ? "setup[" : "pipeline[") + std::to_string(*stage) + "]." + error.message;
      // The check compiled another configuration than the default for this entry: say which.
      if (config != spec.default_config && error.message.starts_with("the default configuration"))
        error.message = "the configuration " + spec.space.format(config) + error.message.substr(std::string("the default configuration").size());
      error.message += origin;
      return error;
    }
    if (auto same = compare_signature(spec, *signature, stage, setup); !same) {
      Error error = same.error();
      error.message += origin;
      return error;
    }
    out.push_back(std::move(*signature));
  }
  return out;
}

Result<workers::KernelSignature> check_kernel_signature(const KernelSpec& spec, const std::string& arch,
                                                        CompileService* service, const Sizes* sizes) {
  auto signatures = check_kernel_signatures(spec, arch, service, sizes);
  if (!signatures) return signatures.error();
  return std::move(signatures->front());
}

}  // namespace ktune
