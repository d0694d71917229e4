#include "workers/kernel_signature.hpp"

#include <cxxabi.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "workers/compile_log.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace ktune::workers {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::size_t ptx_type_bytes(std::string_view type) {
  // .u8 .s16 .f32 .b64 ...: the digits are the width in bits.
  std::size_t bits = 0;
  for (char c : type.substr(2)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    bits = bits * 10 + static_cast<std::size_t>(c - '0');
  }
  return bits / 8;
}

}  // namespace

std::optional<std::vector<KernelParam>> ptx_entry_params(std::string_view ptx, std::string_view lowered_name) {
  const std::string needle = ".entry " + std::string(lowered_name) + "(";
  const std::size_t at = ptx.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t open = at + needle.size();
  const std::size_t close = ptx.find(')', open);
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<KernelParam> params;
  std::string_view list = ptx.substr(open, close - open);
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    // ".param [.align N] [.ptr .global .align N] .TYPE NAME[[N]]"
    KernelParam param;
    std::string_view name;
    while (!item.empty()) {
      const std::size_t space = item.find_first_of(" \t\r\n");
      std::string_view token = item.substr(0, space);
      item = space == std::string_view::npos ? std::string_view{} : trim(item.substr(space));
      if (token == ".param" || token == ".ptr" || token == ".global" || token == ".const" || token == ".shared" ||
          token == ".local")
        continue;
      if (token == ".align") {  // its operand follows
        const std::size_t next = item.find_first_of(" \t\r\n");
        item = next == std::string_view::npos ? std::string_view{} : trim(item.substr(next));
        continue;
      }
      if (token.size() > 2 && token[0] == '.' && (token[1] == 'u' || token[1] == 's' || token[1] == 'b' || token[1] == 'f')) {
        param.ptx_type = std::string(token);
        param.bytes = ptx_type_bytes(token);
        continue;
      }
      name = token;
    }
    if (param.ptx_type.empty()) return std::nullopt;
    // An aggregate is ".b8 NAME[N]": N bytes.
    if (const std::size_t bracket = name.find('['); bracket != std::string_view::npos) {
      std::size_t n = 0;
      for (char c : name.substr(bracket + 1)) {
        if (c == ']') break;
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      param.bytes *= n;
    }
    params.push_back(std::move(param));
  }
  return params;
}

std::optional<std::vector<std::string>> demangled_param_types(const std::string& lowered_name, std::string* demangled) {
  if (!lowered_name.starts_with("_Z")) return std::nullopt;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> text(abi::__cxa_demangle(lowered_name.c_str(), nullptr, nullptr, &status),
                                                   &std::free);
  if (status != 0 || !text) return std::nullopt;
  const std::string_view full = text.get();
  if (demangled) *demangled = std::string(full);
  // The parameter list is the last parenthesised group: "void f<(int)3>(float*, int)".
  if (full.empty() || full.back() != ')') return std::nullopt;
  int depth = 0;
  std::size_t open = std::string_view::npos;
  for (std::size_t i = full.size(); i-- > 0;) {
    if (full[i] == ')') ++depth;
    if (full[i] == '(' && --depth == 0) {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) return std::nullopt;
  std::vector<std::string> types;
  const std::string_view list = full.substr(open + 1, full.size() - open - 2);
  if (trim(list).empty()) return types;
  depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || (depth == 0 && list[i] == ',')) {
      types.emplace_back(trim(list.substr(start, i - start)));
      start = i + 1;
      continue;
    }
    if (list[i] == '<' || list[i] == '(' || list[i] == '[') ++depth;
    if (list[i] == '>' || list[i] == ')' || list[i] == ']') --depth;
  }
  if (types.size() == 1 && types.front() == "void") types.clear();
  return types;
}

CompileJob signature_job(CompileJob job) {
  if (job.arch.starts_with("sm_")) job.arch = "compute_" + job.arch.substr(3);
  return job;
}

Result<KernelSignature> read_kernel_signature(const CompileJob& job) {
  if (job.name_expressions.size() != 1)
    return make_error(Errc::invalid_argument, "read_kernel_signature: the job must name exactly one kernel");
  return read_kernel_signature(compile_with_nvrtc(signature_job(job)), job.name_expressions.front());
}

Result<KernelSignature> read_kernel_signature(const CompileResult& compiled, const std::string& name) {
  if (!compiled.ok()) {
    std::string why = compile_log_headline(compiled.log);
    // NVRTC's message for a template named without its arguments says nothing about the spec.
    if (compiled.log.find("cannot determine which instance of function template") != std::string::npos)
      return make_error(Errc::invalid_spec, "entry: \"" + name + "\" is a function template; name the instance, e.g. \"" +
                                                name + "<float>\", or pass parameters as its template arguments "
                                                "(\"pass_params\": \"template\")");
    // The name map is the translation unit NVRTC builds from the name expressions: an error there
    // (and no earlier one in the source itself) is about the entry.
    if (compiled.status == CompileStatus::compile_error &&
        (why.find("nvrtcGetLoweredName") != std::string::npos || why.find("nvrtcAddNameExpression") != std::string::npos ||
         why.find("__nv_name_map") != std::string::npos))
      return make_error(Errc::invalid_spec, "entry: NVRTC cannot resolve \"" + name + "\" to a kernel: " + why);
    if (compiled.status != CompileStatus::compile_error)  // not the source's fault (crash, timeout, memory)
      return make_error(Errc::internal, "the compiler failed on the default configuration (" +
                                            std::string(compile_status_name(compiled.status)) + "): " + why);
    return make_error(Errc::invalid_spec, "the default configuration does not compile (compile_error): " + why);
  }
  if (compiled.lowered_names.size() != 1)
    return make_error(Errc::internal, "read_kernel_signature: expected one lowered name for " + name);
  KernelSignature signature;
  signature.name_expression = name;
  signature.lowered_name = compiled.lowered_names.front();
  signature.log = compiled.log;
  auto params = ptx_entry_params(compiled.cubin, signature.lowered_name);
  if (!params)
    return make_error(Errc::invalid_spec, "entry: \"" + name + "\" resolves to " + signature.lowered_name +
                                              ", which is not a __global__ kernel");
  signature.params = std::move(*params);
  if (auto types = demangled_param_types(signature.lowered_name, &signature.demangled)) {
    // Both lists describe one function; if they disagree the C++ types are dropped, not trusted.
    if (types->size() == signature.params.size())
      for (std::size_t i = 0; i < types->size(); ++i) signature.params[i].cpp_type = (*types)[i];
  }
  return signature;
}

}  // namespace ktune::workers
