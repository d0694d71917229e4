#include "engine/kernel_check.hpp"

#include <optional>
#include <string_view>

#include <future>

#include "engine/compile_service.hpp"
#include "engine/model/instantiate.hpp"
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

std::string spec_type_text(const Argument& arg) {
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

Result<std::vector<workers::KernelSignature>> check_kernel_signatures(const KernelSpec& spec, const std::string& arch,
                                                                     CompileService* service) {
  const workers::CompileJob whole = make_compile_job(spec, spec.default_config, arch);
  std::vector<workers::KernelSignature> out;
  // One PTX compile per kernel (each with its own name expression), so a name NVRTC cannot
  // resolve is blamed on its own pipeline stage.
  for (std::size_t i = 0; i < whole.name_expressions.size(); ++i) {
    workers::CompileJob job = whole;
    job.name_expressions = {whole.name_expressions[i]};
    Result<workers::KernelSignature> signature = make_error(Errc::internal, "not checked");
    if (service == nullptr) {
      signature = workers::read_kernel_signature(job);
    } else {
      std::promise<workers::CompileResult> done;
      auto answer = done.get_future();
      service->pool().submit(workers::signature_job(job), [&done](workers::CompileResult r) { done.set_value(std::move(r)); });
      signature = workers::read_kernel_signature(answer.get(), job.name_expressions.front());
    }
    // The launched kernels' names come first, then the setup kernels' (name_expressions_for).
    const std::size_t launched = whole.name_expressions.size() - spec.setup.size();
    const bool setup = i >= launched;
    const std::optional<std::size_t> stage = setup ? std::optional<std::size_t>(i - launched)
                                             : spec.is_pipeline() ? std::optional<std::size_t>(i)
                                                                  : std::nullopt;
    if (!signature) {
      Error error = signature.error();
      if (stage && error.message.starts_with("entry: "))
        error.message = std::string(setup ? "setup[" : "pipeline[") + std::to_string(*stage) + "]." + error.message;
      return error;
    }
    if (auto same = compare_signature(spec, *signature, stage, setup); !same) return same.error();
    out.push_back(std::move(*signature));
  }
  return out;
}

Result<workers::KernelSignature> check_kernel_signature(const KernelSpec& spec, const std::string& arch,
                                                        CompileService* service) {
  auto signatures = check_kernel_signatures(spec, arch, service);
  if (!signatures) return signatures.error();
  return std::move(signatures->front());
}

}  // namespace ktune
