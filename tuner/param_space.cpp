#include "tuner/param_space.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/common/hash.hpp"

namespace ktune {

std::optional<int> ParamSpace::slot_of(std::string_view name) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  for (std::size_t i = 0; i < size_names.size(); ++i)
    if (size_names[i] == name) return static_cast<int>(params.size() + i);
  return std::nullopt;
}

int ParamSpace::param_index(std::string_view name) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  return -1;
}

std::uint64_t ParamSpace::product() const {
  std::uint64_t total = 1;
  for (const auto& p : params) {
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(p.values.size()), &total))
      return std::numeric_limits<std::uint64_t>::max();
  }
  return total;
}

Expr::Resolver ParamSpace::resolver() const {
  return [this](std::string_view name) { return slot_of(name); };
}

std::int64_t choice_code(std::string_view choice) noexcept {
  const std::uint64_t bits = xxh3_128(choice).low >> 2;  // 62 bits
  return static_cast<std::int64_t>((std::uint64_t{1} << 62) | bits);
}

Result<Parameter> choice_parameter(std::string name, const std::vector<std::string>& choices) {
  std::vector<std::size_t> order(choices.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return choice_code(choices[a]) < choice_code(choices[b]); });
  Parameter p{std::move(name), {}, {}};
  for (std::size_t i : order) {
    const std::int64_t code = choice_code(choices[i]);
    if (!p.values.empty() && p.values.back() == code)
      return make_error(Errc::invalid_spec, p.choices.back() == choices[i] ? "lists the choice \"" + choices[i] + "\" twice"
                                                                          : "the choices \"" + p.choices.back() + "\" and \"" +
                                                                                choices[i] + "\" have one code; rename one");
    p.values.push_back(code);
    p.choices.push_back(choices[i]);
  }
  return p;
}

const std::string* Parameter::choice_of(std::int64_t value) const noexcept {
  auto it = std::lower_bound(values.begin(), values.end(), value);
  if (!is_choice() || it == values.end() || *it != value) return nullptr;
  return &choices[static_cast<std::size_t>(it - values.begin())];
}

std::string Parameter::value_text(std::int64_t value) const {
  if (const std::string* choice = choice_of(value)) return *choice;
  return std::to_string(value);
}

std::optional<std::int64_t> Parameter::code_of(std::string_view text) const noexcept {
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (choices[i] == text) return values[i];
  return std::nullopt;
}

Result<std::int64_t> Parameter::value_from_text(std::string_view text) const {
  if (is_choice()) {
    if (auto code = code_of(text)) return *code;
    return make_error(Errc::invalid_argument,
                      "\"" + std::string(text) + "\" is not one of " + name + "'s choices (" + join_values(*this) + ")");
  }
  return parse_named_integer(name, text);
}

Expr::ChoiceResolver ParamSpace::choice_resolver() const {
  return [this](int slot, std::string_view literal) -> Result<std::int64_t> {
    if (slot < 0 || static_cast<std::size_t>(slot) >= params.size())
      return make_error(Errc::invalid_spec, "the string '" + std::string(literal) + "' is compared with a size; strings are named choices of a parameter");
    const Parameter& p = params[static_cast<std::size_t>(slot)];
    if (!p.is_choice())
      return make_error(Errc::invalid_spec, "the string '" + std::string(literal) + "' is compared with " + p.name +
                                                ", whose values are integers");
    if (auto code = p.code_of(literal)) return *code;
    return make_error(Errc::invalid_spec,
                      "'" + std::string(literal) + "' is not one of " + p.name + "'s choices (" + join_values(p) + ")");
  };
}

bool ParamSpace::has_choices() const noexcept {
  return std::any_of(params.begin(), params.end(), [](const Parameter& p) { return p.is_choice(); });
}

std::string ParamSpace::format(const NamedValues& config, std::string_view separator) const {
  std::string out;
  for (const auto& [key, value] : config) {
    if (!out.empty()) out += separator;
    out += key + "=" + value_text(key, value);
  }
  return out;
}

std::string ParamSpace::value_text(std::string_view name, std::int64_t value) const {
  const int p = param_index(name);
  return p < 0 ? std::to_string(value) : params[static_cast<std::size_t>(p)].value_text(value);
}

Result<NamedValues> ParamSpace::from_words(const NamedWords& words) const {
  NamedValues out;
  for (const auto& [key, word] : words) {
    const int p = param_index(key);
    auto value = p < 0 ? parse_named_integer(key, word) : params[static_cast<std::size_t>(p)].value_from_text(word);
    if (!value) return value.error();
    out.emplace_back(key, *value);
  }
  return out;
}

Result<NamedValues> ParamSpace::parse(std::string_view text) const {
  auto words = parse_named_words(text);
  if (!words) return words.error();
  return from_words(*words);
}

std::string join_values(const Parameter& param) {
  if (!param.is_choice()) return join_values(param.values);
  std::string out;
  for (std::size_t i = 0; i < param.choices.size(); ++i) out += (i ? ", " : "") + param.choices[i];
  return out;
}

std::string join_values(const std::vector<std::int64_t>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    if (i == 8 && values.size() > 10) {
      out += "... (" + std::to_string(values.size()) + " values)";
      break;
    }
    out += std::to_string(values[i]);
  }
  return out;
}

std::optional<std::string> why_invalid_at(const ParamSpace& space, const Config& config, const Sizes& sizes) {
  const auto& params = space.params;
  if (config.empty() && !params.empty()) return std::string("the configuration is empty");
  for (const auto& [name, value] : config)
    if (space.param_index(name) < 0) return name + " is not a parameter of this kernel";
  std::vector<std::int64_t> slots(static_cast<std::size_t>(space.slot_count()), 0);
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto value = find_value(config, params[p].name);
    if (!value) return "no value for " + params[p].name;
    if (!std::binary_search(params[p].values.begin(), params[p].values.end(), *value))
      return params[p].name + "=" + params[p].value_text(*value) + " is not one of " + join_values(params[p]);
    slots[p] = *value;
  }
  for (std::size_t s = 0; s < space.size_names.size(); ++s) {
    auto value = find_value(sizes, space.size_names[s]);
    if (!value) return "no value for size " + space.size_names[s];
    slots[params.size() + s] = *value;
  }
  for (const auto& constraint : space.constraints) {
    EvalResult r = constraint.expr.evaluate(slots);
    if (!r.ok()) return "constraint \"" + constraint.expr.text() + "\" cannot be evaluated: " + eval_error_text(r.error);
    if (r.value == 0) return "constraint \"" + constraint.expr.text() + "\" is false";
  }
  return std::nullopt;
}

}  // namespace ktune
