#include "engine/common/expr.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace ktune {

const char* eval_error_text(EvalError error) noexcept {
  switch (error) {
    case EvalError::none: return "ok";
    case EvalError::division_by_zero: return "division by zero";
    case EvalError::overflow: return "integer overflow";
    case EvalError::domain: return "argument out of domain";
  }
  return "unknown";
}

namespace {

enum class Tok : std::uint8_t { end, number, name, string, op, lparen, rparen, comma, question, colon };

struct Token {
  Tok kind;
  std::string_view text;
  std::size_t pos;  // 0-based offset into the expression
  std::int64_t number = 0;
};

// Deep nesting is the only way an expression could make parsing expensive; cap it.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxLength = 4096;

}  // namespace

class ExprParser {
 public:
  ExprParser(std::string_view text, const Expr::Resolver& resolve, std::string_view context,
             const Expr::ChoiceResolver& choices)
      : text_(text), resolve_(resolve), choices_(choices), context_(context) {}

  Result<Expr> run() {
    if (text_.size() > kMaxLength) return fail(0, "expression longer than " + std::to_string(kMaxLength) + " characters");
    if (!lex()) return *error_;
    int root = parse_ternary(0);
    if (error_) return *error_;
    if (peek().kind != Tok::end) return fail(peek().pos, "unexpected '" + std::string(peek().text) + "'");
    expr_.text_ = std::string(text_);
    expr_.root_ = root;
    std::sort(expr_.slots_used_.begin(), expr_.slots_used_.end());
    expr_.slots_used_.erase(std::unique(expr_.slots_used_.begin(), expr_.slots_used_.end()), expr_.slots_used_.end());
    return std::move(expr_);
  }

 private:
  Error fail(std::size_t pos, const std::string& what) {
    std::string where = context_.empty() ? std::string() : std::string(context_) + ": ";
    error_ = make_error(Errc::invalid_spec, where + "in expression \"" + std::string(text_) + "\" at position " +
                                                std::to_string(pos + 1) + ": " + what);
    return *error_;
  }

  bool lex() {
    std::size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
      std::size_t start = i;
      if (std::isdigit(static_cast<unsigned char>(c))) {
        int base = 10;
        if (c == '0' && i + 1 < text_.size() && (text_[i + 1] == 'x' || text_[i + 1] == 'X')) { base = 16; i += 2; }
        std::size_t digits = i;
        while (i < text_.size() && std::isalnum(static_cast<unsigned char>(text_[i]))) ++i;
        std::int64_t value = 0;
        auto [ptr, ec] = std::from_chars(text_.data() + digits, text_.data() + i, value, base);
        if (ec == std::errc::result_out_of_range) { fail(start, "number out of 64-bit range"); return false; }
        if (ec != std::errc() || ptr != text_.data() + i || digits == i) {
          fail(start, "malformed number '" + std::string(text_.substr(start, i - start)) + "'");
          return false;
        }
        tokens_.push_back({Tok::number, text_.substr(start, i - start), start, value});
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[i])) || text_[i] == '_')) ++i;
        tokens_.push_back({Tok::name, text_.substr(start, i - start), start});
        continue;
      }
      if (c == '\'' || c == '"') {  // a string literal (a named choice): no escapes, one line
        std::size_t close = text_.find(c, i + 1);
        if (close == std::string_view::npos) { fail(start, "unterminated string literal"); return false; }
        tokens_.push_back({Tok::string, text_.substr(i + 1, close - i - 1), start});
        i = close + 1;
        continue;
      }
      static constexpr std::string_view two[] = {"<=", ">=", "==", "!=", "&&", "||"};
      bool matched = false;
      for (auto op : two) {
        if (text_.substr(i, 2) == op) {
          tokens_.push_back({Tok::op, op, start});
          i += 2;
          matched = true;
          break;
        }
      }
      if (matched) continue;
      Tok kind = Tok::op;
      switch (c) {
        case '(': kind = Tok::lparen; break;
        case ')': kind = Tok::rparen; break;
        case ',': kind = Tok::comma; break;
        case '?': kind = Tok::question; break;
        case ':': kind = Tok::colon; break;
        case '+': case '-': case '*': case '/': case '%': case '<': case '>': case '!': break;
        default:
          fail(i, std::string("unexpected character '") + c + "'");
          return false;
      }
      tokens_.push_back({kind, text_.substr(i, 1), i});
      ++i;
    }
    tokens_.push_back({Tok::end, "end of expression", text_.size()});
    return true;
  }

  const Token& peek() const { return tokens_[next_]; }
  const Token& take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  bool peek_op(std::string_view op) const { return peek().kind == Tok::op && peek().text == op; }

  int add(Expr::Op op, std::int64_t value = 0, int a = -1, int b = -1, int c = -1) {
    expr_.nodes_.push_back({op, value, a, b, c});
    return static_cast<int>(expr_.nodes_.size() - 1);
  }

  // Each level returns a node index, or -1 with error_ set.
  int parse_ternary(int depth) {
    if (depth > kMaxDepth) { fail(peek().pos, "nested too deeply"); return -1; }
    int cond = parse_binary(0, depth);
    if (cond < 0) return -1;
    if (peek().kind != Tok::question) return cond;
    take();
    int yes = parse_ternary(depth + 1);
    if (yes < 0) return -1;
    if (peek().kind != Tok::colon) { fail(peek().pos, "expected ':' of '?:'"); return -1; }
    take();
    int no = parse_ternary(depth + 1);
    if (no < 0) return -1;
    return add(Expr::Op::select, 0, cond, yes, no);
  }

  struct Level { std::string_view ops[4]; Expr::Op codes[4]; int count; };
  static const Level& level(int i) {
    static const Level levels[] = {
        {{"||"}, {Expr::Op::logical_or}, 1},
        {{"&&"}, {Expr::Op::logical_and}, 1},
        {{"==", "!="}, {Expr::Op::eq, Expr::Op::ne}, 2},
        {{"<", "<=", ">", ">="}, {Expr::Op::lt, Expr::Op::le, Expr::Op::gt, Expr::Op::ge}, 4},
        {{"+", "-"}, {Expr::Op::add, Expr::Op::sub}, 2},
        {{"*", "/", "%"}, {Expr::Op::mul, Expr::Op::div, Expr::Op::mod}, 3},
    };
    return levels[i];
  }
  static constexpr int kLevels = 6;

  static constexpr int kEqualityLevel = 2;

  int parse_binary(int lvl, int depth) {
    if (lvl == kLevels) return parse_unary(depth);
    // A string literal is an operand of == or != only: 'float' == T as well as T == 'float'.
    std::optional<Token> literal_lhs;
    int lhs = -1;
    if (lvl == kEqualityLevel && peek().kind == Tok::string) literal_lhs = take();
    else lhs = parse_binary(lvl + 1, depth);
    if (!literal_lhs && lhs < 0) return -1;
    for (;;) {
      const Level& l = level(lvl);
      int found = -1;
      for (int k = 0; k < l.count; ++k)
        if (peek_op(l.ops[k])) found = k;
      if (found < 0) {
        if (literal_lhs) { fail(literal_lhs->pos, "a string is only compared (== or !=) with a named-choice parameter"); return -1; }
        return lhs;
      }
      take();
      if (lvl == kEqualityLevel && (literal_lhs || peek().kind == Tok::string)) {
        std::optional<Token> literal = literal_lhs;
        int named = lhs;
        if (literal) named = parse_binary(lvl + 1, depth);
        else literal = take();
        literal_lhs.reset();
        if (named < 0) return -1;
        int value = resolve_choice(named, *literal);
        if (value < 0) return -1;
        lhs = add(l.codes[found], 0, named, value);
        continue;
      }
      int rhs = parse_binary(lvl + 1, depth);
      if (rhs < 0) return -1;
      lhs = add(l.codes[found], 0, lhs, rhs);
    }
  }

  // The constant node a string literal compared with `named` stands for, or -1 with error_ set.
  int resolve_choice(int named, const Token& literal) {
    const Expr::Node& node = expr_.nodes_[static_cast<std::size_t>(named)];
    if (node.op != Expr::Op::variable) {
      fail(literal.pos, "the string '" + std::string(literal.text) + "' can only be compared with a parameter's name");
      return -1;
    }
    if (!choices_) { fail(literal.pos, "strings are not allowed here"); return -1; }
    auto value = choices_(static_cast<int>(node.value), literal.text);
    if (!value) { fail(literal.pos, value.error().message); return -1; }
    return add(Expr::Op::constant, *value);
  }

  int parse_unary(int depth) {
    if (depth > kMaxDepth) { fail(peek().pos, "nested too deeply"); return -1; }
    if (peek_op("-") || peek_op("!") || peek_op("+")) {
      std::string_view op = take().text;
      int operand = parse_unary(depth + 1);
      if (operand < 0) return -1;
      if (op == "+") return operand;
      return add(op == "-" ? Expr::Op::negate : Expr::Op::logical_not, 0, operand);
    }
    return parse_primary(depth);
  }

  int parse_primary(int depth) {
    const Token& t = take();
    switch (t.kind) {
      case Tok::number: return add(Expr::Op::constant, t.number);
      case Tok::lparen: {
        int inner = parse_ternary(depth + 1);
        if (inner < 0) return -1;
        if (peek().kind != Tok::rparen) { fail(peek().pos, "expected ')'"); return -1; }
        take();
        return inner;
      }
      case Tok::name: {
        if (peek().kind == Tok::lparen) return parse_call(t, depth);
        auto slot = resolve_ ? resolve_(t.text) : std::nullopt;
        if (!slot) { fail(t.pos, "unknown name '" + std::string(t.text) + "'"); return -1; }
        expr_.slots_used_.push_back(*slot);
        return add(Expr::Op::variable, *slot);
      }
      case Tok::string:
        fail(t.pos, "the string '" + std::string(t.text) + "' is only compared (== or !=) with a named-choice parameter");
        return -1;
      case Tok::end: fail(t.pos, "expected a value, found the end of the expression"); return -1;
      default: fail(t.pos, "expected a value, found '" + std::string(t.text) + "'"); return -1;
    }
  }

  int parse_call(const Token& name, int depth) {
    struct Fn { std::string_view name; Expr::Op op; int arity; };
    static constexpr Fn fns[] = {{"min", Expr::Op::min, 2},      {"max", Expr::Op::max, 2},
                                 {"ceil_div", Expr::Op::ceil_div, 2}, {"abs", Expr::Op::abs, 1},
                                 {"log2", Expr::Op::log2, 1},    {"is_pow2", Expr::Op::is_pow2, 1}};
    const Fn* fn = nullptr;
    for (const auto& f : fns)
      if (f.name == name.text) fn = &f;
    if (!fn) {
      fail(name.pos, "unknown function '" + std::string(name.text) +
                         "' (known: min, max, ceil_div, abs, log2, is_pow2)");
      return -1;
    }
    take();  // '('
    int args[2] = {-1, -1};
    for (int i = 0; i < fn->arity; ++i) {
      if (i > 0) {
        if (peek().kind != Tok::comma) {
          fail(peek().pos, std::string(fn->name) + " takes " + std::to_string(fn->arity) + " arguments");
          return -1;
        }
        take();
      }
      args[i] = parse_ternary(depth + 1);
      if (args[i] < 0) return -1;
    }
    if (peek().kind != Tok::rparen) {
      fail(peek().pos, std::string(fn->name) + " takes " + std::to_string(fn->arity) +
                           (fn->arity == 1 ? " argument" : " arguments") + "; expected ')'");
      return -1;
    }
    take();
    return add(fn->op, 0, args[0], args[1]);
  }

  std::string_view text_;
  const Expr::Resolver& resolve_;
  const Expr::ChoiceResolver& choices_;
  std::string_view context_;
  std::vector<Token> tokens_;
  std::size_t next_ = 0;
  Expr expr_;
  std::optional<Error> error_;
};

Result<Expr> Expr::parse(std::string_view text, const Resolver& resolve, std::string_view context,
                         const ChoiceResolver& choices) {
  return ExprParser(text, resolve, context, choices).run();
}

EvalResult Expr::evaluate(std::span<const std::int64_t> slots) const noexcept {
  if (root_ < 0) return {0, EvalError::domain};
  return eval_node(root_, slots);
}

EvalResult Expr::eval_node(int index, std::span<const std::int64_t> slots) const noexcept {
  const Node& n = nodes_[static_cast<std::size_t>(index)];
  using Lim = std::numeric_limits<std::int64_t>;
  auto value = [](std::int64_t v) { return EvalResult{v, EvalError::none}; };
  auto failure = [](EvalError e) { return EvalResult{0, e}; };

  switch (n.op) {
    case Op::constant: return value(n.value);
    case Op::variable: {
      auto slot = static_cast<std::size_t>(n.value);
      if (slot >= slots.size()) return failure(EvalError::domain);
      return value(slots[slot]);
    }
    case Op::logical_and: {
      EvalResult a = eval_node(n.a, slots);
      if (!a.ok() || a.value == 0) return a.ok() ? value(0) : a;
      EvalResult b = eval_node(n.b, slots);
      return b.ok() ? value(b.value != 0) : b;
    }
    case Op::logical_or: {
      EvalResult a = eval_node(n.a, slots);
      if (!a.ok() || a.value != 0) return a.ok() ? value(1) : a;
      EvalResult b = eval_node(n.b, slots);
      return b.ok() ? value(b.value != 0) : b;
    }
    case Op::select: {
      EvalResult cond = eval_node(n.a, slots);
      if (!cond.ok()) return cond;
      return eval_node(cond.value != 0 ? n.b : n.c, slots);
    }
    default: break;
  }

  EvalResult a = eval_node(n.a, slots);
  if (!a.ok()) return a;
  switch (n.op) {
    case Op::negate:
      if (a.value == Lim::min()) return failure(EvalError::overflow);
      return value(-a.value);
    case Op::logical_not: return value(a.value == 0);
    case Op::abs:
      if (a.value == Lim::min()) return failure(EvalError::overflow);
      return value(a.value < 0 ? -a.value : a.value);
    case Op::log2: {
      if (a.value <= 0) return failure(EvalError::domain);
      std::int64_t r = 0;
      for (std::int64_t v = a.value; v > 1; v >>= 1) ++r;
      return value(r);
    }
    case Op::is_pow2: return value(a.value > 0 && (a.value & (a.value - 1)) == 0);
    default: break;
  }

  EvalResult b = eval_node(n.b, slots);
  if (!b.ok()) return b;
  std::int64_t x = a.value, y = b.value, r = 0;
  switch (n.op) {
    case Op::add: return __builtin_add_overflow(x, y, &r) ? failure(EvalError::overflow) : value(r);
    case Op::sub: return __builtin_sub_overflow(x, y, &r) ? failure(EvalError::overflow) : value(r);
    case Op::mul: return __builtin_mul_overflow(x, y, &r) ? failure(EvalError::overflow) : value(r);
    case Op::div:
    case Op::mod:
    case Op::ceil_div: {
      if (y == 0) return failure(EvalError::division_by_zero);
      if (x == Lim::min() && y == -1) return failure(EvalError::overflow);
      if (n.op == Op::mod) return value(x % y);
      std::int64_t q = x / y;
      if (n.op == Op::ceil_div && x % y != 0 && ((x < 0) == (y < 0))) ++q;
      return value(q);
    }
    case Op::lt: return value(x < y);
    case Op::le: return value(x <= y);
    case Op::gt: return value(x > y);
    case Op::ge: return value(x >= y);
    case Op::eq: return value(x == y);
    case Op::ne: return value(x != y);
    case Op::min: return value(std::min(x, y));
    case Op::max: return value(std::max(x, y));
    default: return failure(EvalError::domain);
  }
}

}  // namespace ktune
