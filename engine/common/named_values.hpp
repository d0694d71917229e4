#pragma once
// A configuration (parameter -> value) and a problem size (size name -> value) are both short,
// ordered lists of named integers. Order is the spec's order, which is also how they print.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune {

using NamedValues = std::vector<std::pair<std::string, std::int64_t>>;
using Config = NamedValues;  // tunable parameter values
using Sizes = NamedValues;   // problem sizes

std::optional<std::int64_t> find_value(const NamedValues& values, std::string_view name);

// "BM=64 BN=128" — the human form used by the CLI and in messages.
std::string format_named(const NamedValues& values, std::string_view separator = " ");

// Parses "M=4096,N=4096" (commas or spaces between items). Names must be identifiers, values
// integers (decimal, optional sign, optional k/M/G binary suffixes are *not* accepted: sizes are
// exact). Errors name the offending item.
Result<NamedValues> parse_named(std::string_view text);

// "M=4096,T=float" as name/word pairs, the values not yet read (named-choice parameters take
// strings: ParamSpace::from_words reads them). Same syntax and errors as parse_named otherwise.
using NamedWords = std::vector<std::pair<std::string, std::string>>;
Result<NamedWords> parse_named_words(std::string_view text);
// An integer value as parse_named reads it; the error names `name`.
Result<std::int64_t> parse_named_integer(std::string_view name, std::string_view number);

}  // namespace ktune
