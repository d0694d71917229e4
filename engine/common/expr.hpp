#pragma once
// The spec's integer expression language: constraints, launch geometry, buffer element counts
// and scalar argument values are all written in it.
//
//   literals     123  0x7f
//   names        parameters and sizes, bound to slots when the expression is parsed
//   strings      'float' or "float", only as an operand of == or != whose other operand is a
//                named-choice parameter: resolved to that choice's value when parsed
//   operators    ?:  ||  &&  == !=  < <= > >=  + -  * / %  unary ! - +   (C precedence)
//   functions    min(a, b)  max(a, b)  ceil_div(a, b)  abs(a)  log2(a)  is_pow2(a)
//
// Values are 64-bit signed. Comparisons and logic yield 0/1. && || ?: short-circuit, so
// "BN != 0 && N / BN > 2" is safe. Division truncates toward zero like C; division by zero and
// overflow are evaluation errors (values, never UB), which is what a constraint needs: a config
// whose constraint cannot be evaluated is rejected, with the reason.
//
// Parsing never executes anything and never allocates in proportion to anything but the text.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune {

enum class EvalError : std::uint8_t { none, division_by_zero, overflow, domain };
const char* eval_error_text(EvalError error) noexcept;

struct EvalResult {
  std::int64_t value = 0;
  EvalError error = EvalError::none;
  bool ok() const noexcept { return error == EvalError::none; }
};

class Expr {
 public:
  // Maps a name to the slot its value will occupy at evaluation time, or nullopt if unknown.
  using Resolver = std::function<std::optional<int>(std::string_view name)>;

  // The value a string literal compared with the name in `slot` stands for (a named choice of that
  // parameter), or an error message saying why it is none (not a choice parameter, not one of its
  // choices).
  using ChoiceResolver = std::function<Result<std::int64_t>(int slot, std::string_view literal)>;

  // `context` names where the expression came from (e.g. "constraints[2]") for error messages.
  // Without `choices`, string literals are errors.
  static Result<Expr> parse(std::string_view text, const Resolver& resolve, std::string_view context = {},
                            const ChoiceResolver& choices = {});

  // `slots` holds the values of every slot the resolver handed out.
  EvalResult evaluate(std::span<const std::int64_t> slots) const noexcept;

  const std::string& text() const noexcept { return text_; }
  // Slots this expression reads, ascending, without duplicates.
  const std::vector<int>& slots_used() const noexcept { return slots_used_; }
  bool is_constant() const noexcept { return slots_used_.empty(); }

  enum class Op : std::uint8_t {
    constant, variable, negate, logical_not, add, sub, mul, div, mod, lt, le, gt, ge, eq, ne,
    logical_and, logical_or, select, min, max, ceil_div, abs, log2, is_pow2
  };
  struct Node {
    Op op;
    std::int64_t value;  // constant value or slot index
    int a, b, c;         // operand node indices (-1 when unused)
  };

 private:
  EvalResult eval_node(int index, std::span<const std::int64_t> slots) const noexcept;

  std::string text_;
  std::vector<Node> nodes_;
  int root_ = -1;
  std::vector<int> slots_used_;
  friend class ExprParser;
};

}  // namespace ktune
