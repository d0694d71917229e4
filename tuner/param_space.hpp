#pragma once
// The tunable part of a kernel: parameters with their candidate values, the names of the problem
// sizes, and the constraints relating them. Built by the spec parser (engine/), consumed by the
// search space. Expression slots are laid out as [parameters..., sizes...].
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/expr.hpp"
#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"

namespace ktune {

// A parameter's candidate values. A named-choice parameter ("float_type": ["float", "double"])
// has strings; each is tuned, stored and keyed as its code (choice_code: a stable hash of the
// string, docs/ARCHITECTURE.md "Named choices"), so everything that handles configurations keeps
// integers, and the code of a choice never depends on the list it is in.
struct Parameter {
  std::string name;
  std::vector<std::int64_t> values;  // ascending, distinct (the parser sorts and checks)
  std::vector<std::string> choices = {};  // named choices: choices[i] is the string of values[i]; else empty

  bool is_choice() const noexcept { return !choices.empty(); }
  // The choice whose code is `value`, or nullptr (an integer parameter, or no such choice).
  const std::string* choice_of(std::int64_t value) const noexcept;
  // How the value is written: the choice's string, else the number.
  std::string value_text(std::int64_t value) const;
  // The code of the choice spelled `text`; nullopt when it is none of this parameter's choices.
  std::optional<std::int64_t> code_of(std::string_view text) const noexcept;
  // The value `text` names: a choice's string (choice parameters), else an integer; an error
  // naming the parameter and its values otherwise.
  Result<std::int64_t> value_from_text(std::string_view text) const;
};

// The code a named choice is tuned and stored as: 2^62 plus 62 bits of xxh3-128 of the string.
// A pure function of the string, so adding or reordering choices never changes a stored value.
std::int64_t choice_code(std::string_view choice) noexcept;
// A choice parameter's parallel lists from its strings (in any order), sorted by code; an error
// for a string listed twice (or, never seen in practice, two strings with one code).
Result<Parameter> choice_parameter(std::string name, const std::vector<std::string>& choices);

struct Constraint {
  Expr expr;
  bool uses_sizes = false;  // can only be decided once problem sizes are known
};

struct ParamSpace {
  std::vector<Parameter> params;
  std::vector<std::string> size_names;
  std::vector<Constraint> constraints;

  std::optional<int> slot_of(std::string_view name) const;
  int slot_count() const { return static_cast<int>(params.size() + size_names.size()); }
  // The Cartesian product size, saturating at UINT64_MAX.
  std::uint64_t product() const;
  int param_index(std::string_view name) const;  // -1 when not a parameter
  Expr::Resolver resolver() const;
  // Resolves 'float' compared with a choice parameter to its code (see Expr::ChoiceResolver).
  Expr::ChoiceResolver choice_resolver() const;
  bool has_choices() const noexcept;

  // "BM=64 T=float": a configuration as people read it (choices by their string). Names that are
  // no parameter print their number.
  std::string format(const NamedValues& config, std::string_view separator = " ") const;
  // One value as format writes it: a choice's string when `name` is a choice parameter.
  std::string value_text(std::string_view name, std::int64_t value) const;
  // A configuration from "BM=64,T=float" (parse_named_words's syntax): values by parameter, choices
  // by string; other names (sizes, say) must be integers.
  Result<NamedValues> parse(std::string_view text) const;
  Result<NamedValues> from_words(const NamedWords& words) const;
};

// Why `config` is not a valid configuration of `space` at `sizes` — a name that is no parameter, a
// missing parameter, a value not in its list, a constraint false or not evaluable — or nullopt when
// it is valid. Every constraint is checked (sizes must name every size of the space); the same
// verdict as SearchSpace::is_valid on a space built at these sizes, without enumerating it, so an
// imported or stored configuration can be checked in microseconds.
std::optional<std::string> why_invalid_at(const ParamSpace& space, const Config& config, const Sizes& sizes);

// "32, 64, 128" (long lists elided), for messages.
std::string join_values(const std::vector<std::int64_t>& values);
// The same for a parameter: its choices' strings, or its numbers.
std::string join_values(const Parameter& param);

}  // namespace ktune
