// KernelSpec methods that do not parse: slot layout, defines and name expressions.
#include "engine/model/spec.hpp"

#include <algorithm>

namespace ktune {

Status KernelSpec::check_sizes(const Sizes& sizes) const {
  auto all_names = [&] {
    std::string s;
    for (const auto& n : space.size_names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? std::string("(none)") : s;
  };
  for (const auto& [size, value] : sizes) {
    if (std::find(space.size_names.begin(), space.size_names.end(), size) == space.size_names.end())
      return make_error(Errc::invalid_argument,
                        "unknown size " + size + " for kernel " + name + " (its sizes are " + all_names() + ")");
    if (value < 0) return make_error(Errc::invalid_argument, "size " + size + " is negative (" + std::to_string(value) + ")");
  }
  for (const auto& size : space.size_names)
    if (!find_value(sizes, size))
      return make_error(Errc::invalid_argument,
                        "missing size " + size + " for kernel " + name + " (give all of " + all_names() + ")");
  return Ok{};
}

Sizes KernelSpec::bucketed_sizes(const Sizes& ordered) const {
  Sizes out = ordered;
  for (auto& [size_name, value] : out)
    for (const auto& b : buckets)
      if (b.size == size_name)
        if (auto rep = b.representative(value)) value = *rep;
  return out;
}

Result<Sizes> KernelSpec::ordered_sizes(const Sizes& sizes) const {
  for (std::size_t i = 0; i < sizes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (sizes[j].first == sizes[i].first)
        return make_error(Errc::invalid_argument, "size " + sizes[i].first + " is given twice");
  if (auto ok = check_sizes(sizes); !ok) return ok.error();
  Sizes ordered;
  ordered.reserve(space.size_names.size());
  for (const auto& size : space.size_names) ordered.emplace_back(size, *find_value(sizes, size));
  return ordered;
}

Result<std::vector<std::int64_t>> KernelSpec::slots(const Config& config, const Sizes& sizes) const {
  if (auto ok = check_sizes(sizes); !ok) return ok.error();
  std::vector<std::int64_t> out(static_cast<std::size_t>(space.slot_count()), 0);
  for (const auto& [param, value] : config)
    if (space.param_index(param) < 0) return make_error(Errc::invalid_argument, param + " is not a parameter of " + name);
  for (std::size_t p = 0; p < space.params.size(); ++p) {
    auto value = find_value(config, space.params[p].name);
    if (!value) return make_error(Errc::invalid_argument, "the configuration has no value for " + space.params[p].name);
    out[p] = *value;
  }
  for (std::size_t s = 0; s < space.size_names.size(); ++s)
    out[space.params.size() + s] = *find_value(sizes, space.size_names[s]);
  return out;
}

std::optional<std::string> KernelSpec::why_default_invalid_at(const Sizes& sizes) const {
  return why_invalid_at(space, default_config, sizes);
}

std::string KernelSpec::value_text(const std::string& param, std::int64_t value) const { return space.value_text(param, value); }

std::vector<std::string> KernelSpec::defines_for(const Config& config, const Sizes* sizes) const {
  std::vector<std::string> defines;
  for (const auto& [param, value] : config) {
    if (passing == ParamPassing::template_ &&
        std::find(template_args.begin(), template_args.end(), param) != template_args.end())
      continue;
    defines.push_back("-D" + param + "=" + value_text(param, value));
  }
  if (sizes_to_preprocessor && sizes)
    for (const auto& [size, value] : *sizes) defines.push_back("-D" + size + "=" + std::to_string(value));
  return defines;
}

namespace {

std::string name_expression(const KernelSpec& spec, const std::string& entry, const Config& config) {
  if (spec.passing != ParamPassing::template_) return entry;
  // An entry that fixes leading template arguments ("reduce<float>") gets the tuned ones after them.
  const bool fixed = !entry.empty() && entry.back() == '>';
  std::string out = fixed ? entry.substr(0, entry.size() - 1) : entry + "<";
  for (std::size_t i = 0; i < spec.template_args.size(); ++i) {
    if (i || fixed) out += ", ";
    auto value = find_value(config, spec.template_args[i]);
    out += spec.value_text(spec.template_args[i], value.value_or(0));
  }
  return out + ">";
}

}  // namespace

std::string KernelSpec::name_expression_for(const Config& config) const { return name_expression(*this, entry, config); }

std::vector<std::string> KernelSpec::name_expressions_for(const Config& config) const {
  std::vector<std::string> out;
  if (pipeline.empty()) out.push_back(name_expression_for(config));
  for (const auto& stage : pipeline) out.push_back(name_expression(*this, stage.entry, config));
  for (const auto& kernel : setup) out.push_back(name_expression(*this, kernel.entry, config));
  return out;
}

std::string KernelSpec::entry_name() const {
  std::string base = entry.substr(0, entry.find('<'));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  return base;
}

std::string KernelSpec::entry_template_arguments() const {
  const std::size_t open = entry.find('<');
  return open == std::string::npos ? std::string() : entry.substr(open);
}

}  // namespace ktune

namespace ktune {

Tolerances default_tolerances(ElementType type) noexcept {
  switch (type) {
    case ElementType::f16: return {1e-2, 1e-2};
    case ElementType::bf16: return {5e-2, 5e-2};
    case ElementType::f32: return {1e-4, 1e-4};
    case ElementType::f64: return {1e-8, 1e-8};
    default: return {0.0, 0.0};  // integers: exactly
  }
}

const OutputCheck* Verification::output(std::string_view name) const {
  for (const auto& o : outputs)
    if (o.name == name) return &o;
  return nullptr;
}

Tolerances Verification::tolerances_for(const Argument& arg) const {
  Tolerances t = default_tolerances(arg.type);
  if (rtol) t.rtol = *rtol;
  if (atol) t.atol = *atol;
  if (const OutputCheck* own = output(arg.name)) {
    if (own->rtol) t.rtol = *own->rtol;
    if (own->atol) t.atol = *own->atol;
  }
  return t;
}

bool KernelSpec::needs_reference_run() const {
  if (!verify.enabled) return false;
  for (const auto& arg : args) {
    if (!arg.is_buffer || !arg.output) continue;
    const OutputCheck* check = verify.output(arg.name);
    if (!check || !check->answer) return true;
  }
  return false;
}

std::string KernelSpec::describe_reference() const {
  if (!verify.enabled) return "off";
  std::string run = verify.kernel ? "reference kernel " + verify.kernel->entry +
                                        (verify.kernel->source_path.empty() ? "" : " (" + verify.kernel->source_path.filename().string() + ")")
                                  : "configuration " + space.format(verify.reference, " ") + " of the same kernel";
  std::string files;
  for (const auto& arg : args) {
    if (!arg.is_buffer || !arg.output) continue;
    const OutputCheck* check = verify.output(arg.name);
    if (check && check->answer) files += (files.empty() ? "" : ", ") + arg.name + ": answer file " + check->answer->given;
  }
  if (files.empty()) return run;
  return needs_reference_run() ? files + "; other outputs: " + run : files;
}

}  // namespace ktune
