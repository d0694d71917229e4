// Fuzz target: the integer expression language (engine/common/expr.hpp) that constraints, launch
// geometry, buffer counts and scalar arguments are written in. The input is the expression text;
// the names M N K BM BN TM a b c are bound to slots 0..8 and everything else is unknown.
//
// Checked beyond "no crash, no UB (overflow included), no deep recursion":
//   - the text is kept verbatim; slots_used() is sorted, distinct, within the bound slots, and
//     is_constant() means none are used;
//   - evaluation reads no slot outside slots_used() (changing the others changes nothing);
//   - a second, independent implementation written from the header's description (below: a
//     direct recursive evaluator over 128-bit integers) agrees on every expression the real parser
//     accepts, value and error kind, for several bindings including the 64-bit extremes. Where
//     the real parser refuses an expression the reference accepts, the reason must be one of the
//     documented limits (nesting depth, length).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/common/expr.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using ktune::EvalError;
using ktune::EvalResult;
using ktune::Expr;

namespace {

__extension__ typedef __int128 i128;  // -Wpedantic: a GCC/clang extension, fine for a test oracle
__extension__ typedef unsigned __int128 u128;

constexpr const char* kNames[] = {"M", "N", "K", "BM", "BN", "TM", "a", "b", "c"};
constexpr std::size_t kSlotCount = std::size(kNames);

std::optional<int> resolve(std::string_view name) {
  for (std::size_t i = 0; i < kSlotCount; ++i)
    if (name == kNames[i]) return static_cast<int>(i);
  return std::nullopt;
}

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

const std::vector<std::vector<std::int64_t>> kBindings = {
    {1024, 512, 256, 64, 32, 4, 7, -3, 0},
    {0, 0, 0, 0, 0, 0, 0, 0, 0},
    {1, -1, 2, -2, 3, 1, 0, 5, -7},
    {kMax, kMin, -1, kMax, kMin + 1, 2, 1ll << 32, 3037000499, -3037000500},
};

// ---- The reference: parses and evaluates in one pass, lazily, from the documented grammar ----
//   ternary := or ['?' ternary ':' ternary]; then || && (== !=) (< <= > >=) (+ -) (* / %), left
//   associative; unary - ! +; primary: number (decimal or 0x hex), name, f(args), (ternary).
struct Value {
  std::int64_t v = 0;
  EvalError error = EvalError::none;
};

class Reference {
 public:
  Reference(std::string_view text, const std::vector<std::int64_t>& slots) : text_(text), slots_(slots) {}

  // nullopt: the reference rejects the text.
  std::optional<Value> run() {
    skip();
    Value v = ternary(true);
    skip();
    if (bad_ || pos_ != text_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(std::string_view token) {
    skip();
    if (text_.substr(pos_, token.size()) != token) return false;
    // "<" must not eat the start of "<=", "!" of "!=", "&" alone is no token at all.
    if (token.size() == 1 && pos_ + 1 < text_.size()) {
      const char next = text_[pos_ + 1];
      if ((token == "<" || token == ">" || token == "!") && next == '=') return false;
    }
    pos_ += token.size();
    return true;
  }
  void expect(std::string_view token) {
    if (!eat(token)) bad_ = true;
  }

  static Value ok(i128 v) {
    if (v < kMin || v > kMax) return {0, EvalError::overflow};
    return {static_cast<std::int64_t>(v), EvalError::none};
  }
  static Value err(EvalError e) { return {0, e}; }

  // `live`: false inside a branch that short-circuiting skips; it is parsed, not evaluated.
  Value ternary(bool live) {
    if (++depth_ > 200) bad_ = true;  // far beyond the real limit; keeps the reference's stack small
    Value cond = logical_or(live);
    if (eat("?")) {
      const bool cond_ok = live && cond.error == EvalError::none;
      Value yes = ternary(cond_ok && cond.v != 0);
      expect(":");
      Value no = ternary(cond_ok && cond.v == 0);
      --depth_;
      if (!live) return {};
      if (!cond_ok) return cond;
      return cond.v != 0 ? yes : no;
    }
    --depth_;
    return cond;
  }
  Value logical_or(bool live) {
    Value a = logical_and(live);
    while (eat("||")) {
      const bool need_b = live && a.error == EvalError::none && a.v == 0;
      Value b = logical_and(need_b);
      if (!live || a.error != EvalError::none) continue;
      if (a.v != 0) a = {1, EvalError::none};
      else a = b.error != EvalError::none ? b : Value{b.v != 0, EvalError::none};
    }
    return a;
  }
  Value logical_and(bool live) {
    Value a = equality(live);
    while (eat("&&")) {
      const bool need_b = live && a.error == EvalError::none && a.v != 0;
      Value b = equality(need_b);
      if (!live || a.error != EvalError::none) continue;
      if (a.v == 0) a = {0, EvalError::none};
      else a = b.error != EvalError::none ? b : Value{b.v != 0, EvalError::none};
    }
    return a;
  }
  // Strict binary operators: the left operand's error wins, then the right's.
  template <class Next, class Apply>
  Value strict_level(bool live, std::initializer_list<std::string_view> ops, Next next, Apply apply) {
    Value a = next(live);
    for (;;) {
      std::string_view op;
      for (auto candidate : ops)
        if (eat(candidate)) {
          op = candidate;
          break;
        }
      if (op.empty()) return a;
      Value b = next(live);
      if (!live) continue;
      if (a.error != EvalError::none) continue;
      if (b.error != EvalError::none) {
        a = b;
        continue;
      }
      a = apply(op, a.v, b.v);
    }
  }
  Value equality(bool live) {
    return strict_level(live, {"==", "!="}, [&](bool l) { return relational(l); }, [](std::string_view op, std::int64_t x, std::int64_t y) {
      return Value{op == "==" ? x == y : x != y, EvalError::none};
    });
  }
  Value relational(bool live) {
    return strict_level(live, {"<=", ">=", "<", ">"}, [&](bool l) { return additive(l); }, [](std::string_view op, std::int64_t x, std::int64_t y) {
      bool r = op == "<=" ? x <= y : op == ">=" ? x >= y : op == "<" ? x < y : x > y;
      return Value{r, EvalError::none};
    });
  }
  Value additive(bool live) {
    return strict_level(live, {"+", "-"}, [&](bool l) { return multiplicative(l); }, [](std::string_view op, std::int64_t x, std::int64_t y) {
      return op == "+" ? ok(static_cast<i128>(x) + y) : ok(static_cast<i128>(x) - y);
    });
  }
  static Value divide(std::string_view op, std::int64_t x, std::int64_t y) {
    if (y == 0) return err(EvalError::division_by_zero);
    // The header documents overflow as an error; INT64_MIN % -1 is undefined in C, refused too.
    if (x == kMin && y == -1) return err(EvalError::overflow);
    const i128 n = x, d = y;
    if (op == "/") return ok(n / d);
    if (op == "%") return ok(n % d);
    // ceil_div: the ceiling of the exact quotient, as -floor(-n / d).
    const i128 m = -n;
    i128 floor = m / d;
    if (m % d != 0 && ((m < 0) != (d < 0))) --floor;
    return ok(-floor);
  }
  Value multiplicative(bool live) {
    return strict_level(live, {"*", "/", "%"}, [&](bool l) { return unary(l); }, [](std::string_view op, std::int64_t x, std::int64_t y) {
      return op == "*" ? ok(static_cast<i128>(x) * y) : divide(op, x, y);
    });
  }
  Value unary(bool live) {
    if (++depth_ > 200) bad_ = true;
    Value out;
    if (eat("-")) {
      Value a = unary(live);
      out = a.error != EvalError::none ? a : ok(-static_cast<i128>(a.v));
    } else if (eat("!")) {
      Value a = unary(live);
      out = a.error != EvalError::none ? a : Value{a.v == 0, EvalError::none};
    } else if (eat("+")) {
      out = unary(live);
    } else {
      out = primary(live);
    }
    --depth_;
    return live ? out : Value{};
  }
  Value primary(bool live) {
    skip();
    if (pos_ >= text_.size()) {
      bad_ = true;
      return {};
    }
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
      const std::string_view name = text_.substr(start, pos_ - start);
      if (eat("(")) return call(name, live);
      auto slot = resolve(name);
      if (!slot) {
        bad_ = true;
        return {};
      }
      return {slots_[static_cast<std::size_t>(*slot)], EvalError::none};
    }
    if (eat("(")) {
      Value v = ternary(live);
      expect(")");
      return v;
    }
    bad_ = true;
    return {};
  }
  Value number() {
    int base = 10;
    if (text_.substr(pos_, 2) == "0x" || text_.substr(pos_, 2) == "0X") {
      base = 16;
      pos_ += 2;
    }
    const std::size_t start = pos_;
    u128 v = 0;
    for (; pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_])); ++pos_) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text_[pos_])));
      int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 99;
      if (digit >= base) bad_ = true;
      v = v * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
      if (v > static_cast<u128>(kMax)) bad_ = true;
    }
    if (pos_ == start) bad_ = true;
    return {static_cast<std::int64_t>(v & static_cast<u128>(kMax)), EvalError::none};
  }
  Value call(std::string_view name, bool live) {
    const bool two = name == "min" || name == "max" || name == "ceil_div";
    const bool one = name == "abs" || name == "log2" || name == "is_pow2";
    if (!one && !two) {
      bad_ = true;
      return {};
    }
    Value a = ternary(live), b;
    if (two) {
      expect(",");
      b = ternary(live);
    }
    expect(")");
    if (!live) return {};
    if (a.error != EvalError::none) return a;
    if (two && b.error != EvalError::none) return b;
    if (name == "min") return {std::min(a.v, b.v), EvalError::none};
    if (name == "max") return {std::max(a.v, b.v), EvalError::none};
    if (name == "ceil_div") return divide("ceil_div", a.v, b.v);
    if (name == "abs") return ok(a.v < 0 ? -static_cast<i128>(a.v) : a.v);
    if (name == "is_pow2") return {a.v > 0 && (a.v & (a.v - 1)) == 0, EvalError::none};
    if (a.v <= 0) return err(EvalError::domain);  // log2
    std::int64_t r = 63;
    while (((a.v >> r) & 1) == 0) --r;
    return {r, EvalError::none};
  }

  std::string_view text_;
  const std::vector<std::int64_t>& slots_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  bool bad_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ktune::fuzz::as_text(data, size);
  auto expr = Expr::parse(text, resolve, "fuzz");
  auto reference = Reference(text, kBindings[0]).run();
  if (!expr) {
    const std::string& message = expr.error().message;
    ktune::fuzz::note(message);
    KTUNE_FUZZ_CHECK(message.rfind("fuzz: in expression \"", 0) == 0);
    // The reference has no depth limit below 200 levels and no length limit; those are the only
    // reasons the real parser may refuse what the reference accepts.
    KTUNE_FUZZ_CHECK(!reference || message.ends_with(": nested too deeply") || text.size() > 4096);
    return 0;
  }
  KTUNE_FUZZ_CHECK(expr->text() == text);
  const auto& used = expr->slots_used();
  for (std::size_t i = 0; i < used.size(); ++i) {
    KTUNE_FUZZ_CHECK(used[i] >= 0 && static_cast<std::size_t>(used[i]) < kSlotCount);
    KTUNE_FUZZ_CHECK(i == 0 || used[i - 1] < used[i]);
  }
  KTUNE_FUZZ_CHECK(expr->is_constant() == used.empty());
  KTUNE_FUZZ_CHECK(reference.has_value());

  for (const auto& slots : kBindings) {
    const EvalResult r = expr->evaluate(slots);
    auto expected = Reference(text, slots).run();
    KTUNE_FUZZ_CHECK(expected.has_value());
    KTUNE_FUZZ_CHECK(r.error == expected->error);
    KTUNE_FUZZ_CHECK(!r.ok() || r.value == expected->v);

    // Slots the expression does not read cannot matter.
    std::vector<std::int64_t> others = slots;
    for (std::size_t s = 0; s < others.size(); ++s)
      if (!std::binary_search(used.begin(), used.end(), static_cast<int>(s))) others[s] = others[s] ^ 0x5a5a;
    const EvalResult again = expr->evaluate(others);
    KTUNE_FUZZ_CHECK(again.error == r.error && again.value == r.value);
  }
  // Too few slots is an evaluation error, never a read past the end.
  const EvalResult no_slots = expr->evaluate(std::span<const std::int64_t>());
  if (used.empty()) KTUNE_FUZZ_CHECK(no_slots.error == expr->evaluate(kBindings[0]).error);
  return 0;
}
