// KernelSpec methods that do not parse: slot layout, defines and name expressions.
#include "engine/model/spec.hpp"

#include <algorithm>

#include "engine/model/entry_pattern.hpp"

namespace ktune {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

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

std::string name_expression(const KernelSpec& spec, const std::string& pattern, const Config& config) {
  // An entry that names parameters ("k_block{BLOCK}") is this configuration's kernel first.
  const std::string entry = resolve_entry(pattern, spec.space, config);
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

std::vector<std::string> KernelSpec::entries() const {
  if (pipeline.empty()) return {entry};
  std::vector<std::string> out;
  for (const auto& stage : pipeline) out.push_back(stage.entry);
  return out;
}

std::vector<std::string> KernelSpec::resolved_entries_for(const Config& config) const {
  std::vector<std::string> out = entries();
  for (auto& e : out) e = resolve_entry(e, space, config);
  return out;
}

bool KernelSpec::has_entry_pattern() const {
  const auto all = entries();
  return std::any_of(all.begin(), all.end(), [](const std::string& e) { return is_entry_pattern(e); });
}

std::vector<std::string> KernelSpec::name_expressions_for(const Config& config) const {
  std::vector<std::string> out = entries();
  for (auto& e : out) e = name_expression(*this, e, config);
  // Setup kernels come after the timed ones: the runner finds their lowered names by position.
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

Tolerances Verification::tolerances_for(const Argument& arg) const { return tolerances_for(arg, arg.type); }

Tolerances Verification::tolerances_for(const Argument& arg, ElementType type) const {
  Tolerances t = default_tolerances(type);
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

std::string KernelSpec::describe_reference(const Config* config) const {
  if (!verify.enabled) return "off";
  std::string run;
  if (verify.kernel) {
    run = "reference kernel " + verify.kernel->entry +
          (verify.kernel->source_path.empty() ? "" : " (" + verify.kernel->source_path.filename().string() + ")");
    if (!verify.match.empty())
      run += config ? " compiled with " + space.format(match_group(*config), " ") : " compiled at each configuration's " + join_names(verify.match);
  } else {
    run = "configuration " + space.format(config ? reference_config_for(*config) : verify.reference, " ") + " of the same kernel";
    if (!verify.match.empty() && !config) run += ", with each configuration's " + join_names(verify.match);
  }
  std::string files;
  for (const auto& arg : args) {
    if (!arg.is_buffer || !arg.output) continue;
    const OutputCheck* check = verify.output(arg.name);
    if (check && check->answer) files += (files.empty() ? "" : ", ") + arg.name + ": answer file " + check->answer->given;
  }
  if (files.empty()) return run;
  return needs_reference_run() ? files + "; other outputs: " + run : files;
}

Config KernelSpec::match_group(const Config& config) const {
  Config group;
  for (const auto& param : verify.match)
    if (auto value = find_value(config, param)) group.emplace_back(param, *value);
  return group;
}

Config KernelSpec::reference_config_for(const Config& config) const {
  Config reference = verify.kernel ? default_config : verify.reference;
  for (auto& [param, value] : reference)
    if (std::find(verify.match.begin(), verify.match.end(), param) != verify.match.end())
      if (auto own = find_value(config, param)) value = *own;
  return reference;
}

ElementType KernelSpec::arg_type(const Argument& arg, const Config& config) const {
  if (arg.type_param.empty()) return arg.type;
  auto value = find_value(config, arg.type_param);
  if (!value) return arg.type;
  return parse_element_type(value_text(arg.type_param, *value)).value_or(arg.type);
}

bool KernelSpec::has_typed_buffers() const {
  return std::any_of(args.begin(), args.end(), [](const Argument& a) { return !a.type_param.empty(); });
}

Config KernelSpec::type_group(const Config& config) const {
  Config group;
  for (const auto& p : space.params)
    if (std::any_of(args.begin(), args.end(), [&](const Argument& a) { return a.type_param == p.name; }))
      if (auto value = find_value(config, p.name)) group.emplace_back(p.name, *value);
  return group;
}

const Expr* KernelSpec::objective_metric() const {
  if (objective.maximize == "flops" && flops) return &*flops;
  if (objective.maximize == "bytes" && bytes) return &*bytes;
  return nullptr;
}

}  // namespace ktune
