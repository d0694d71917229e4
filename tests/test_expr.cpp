// The integer expression language used by constraints, launch geometry and argument values.
#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "engine/common/expr.hpp"

namespace {

using ktune::EvalError;
using ktune::Expr;

// Names a..e map to slots 0..4 with the values below.
const std::map<std::string, int> kSlots = {{"a", 0}, {"b", 1}, {"c", 2}, {"BM", 3}, {"N", 4}};
const std::vector<std::int64_t> kValues = {7, -3, 0, 64, 4096};

Expr parse(const std::string& text) {
  auto expr = Expr::parse(text, [](std::string_view name) -> std::optional<int> {
    auto it = kSlots.find(std::string(name));
    if (it == kSlots.end()) return std::nullopt;
    return it->second;
  });
  if (!expr) throw std::runtime_error(expr.error().message);
  return std::move(expr).value();
}

std::int64_t eval(const std::string& text) {
  auto r = parse(text).evaluate(kValues);
  EXPECT_TRUE(r.ok()) << text << ": " << ktune::eval_error_text(r.error);
  return r.value;
}

EvalError eval_error(const std::string& text) { return parse(text).evaluate(kValues).error; }

std::string parse_error(const std::string& text) {
  auto expr = Expr::parse(text, [](std::string_view name) -> std::optional<int> {
    return kSlots.count(std::string(name)) ? std::optional<int>(kSlots.at(std::string(name))) : std::nullopt;
  }, "constraints[3]");
  EXPECT_FALSE(expr.ok()) << text << " parsed";
  return expr ? std::string() : expr.error().message;
}

TEST(Expr, ArithmeticFollowsCPrecedence) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("10 - 4 - 3"), 3);  // left associative
  EXPECT_EQ(eval("100 / 10 / 5"), 2);
  EXPECT_EQ(eval("-a + 10"), 3);
  EXPECT_EQ(eval("7 / -2"), -3);  // truncates toward zero like C
  EXPECT_EQ(eval("-7 % 3"), -1);
  EXPECT_EQ(eval("0x40 + 1"), 65);
  EXPECT_EQ(eval("1 + 2 < 4 == 1"), 1);
}

TEST(Expr, ComparisonsAndLogicYieldZeroOrOne) {
  EXPECT_EQ(eval("BM % 32 == 0 && BM <= 128"), 1);
  EXPECT_EQ(eval("BM > 64 || a == 7"), 1);
  EXPECT_EQ(eval("!a"), 0);
  EXPECT_EQ(eval("!c"), 1);
  EXPECT_EQ(eval("a != b"), 1);
  EXPECT_EQ(eval("5 && 9"), 1);
  EXPECT_EQ(eval("b >= -3 ? 10 : 20"), 10);
  EXPECT_EQ(eval("c ? 1 : b < 0 ? 2 : 3"), 2);
}

TEST(Expr, Functions) {
  EXPECT_EQ(eval("ceil_div(N, BM)"), 64);
  EXPECT_EQ(eval("ceil_div(4097, 64)"), 65);
  EXPECT_EQ(eval("ceil_div(-7, 2)"), -3);
  EXPECT_EQ(eval("ceil_div(7, -2)"), -3);
  EXPECT_EQ(eval("min(a, b)"), -3);
  EXPECT_EQ(eval("max(a, min(BM, 100))"), 64);
  EXPECT_EQ(eval("abs(b)"), 3);
  EXPECT_EQ(eval("log2(BM)"), 6);
  EXPECT_EQ(eval("is_pow2(BM) + is_pow2(a) + is_pow2(c)"), 1);
}

TEST(Expr, ShortCircuitGuardsDivision) {
  EXPECT_EQ(eval("c != 0 && N / c > 2"), 0);
  EXPECT_EQ(eval("c == 0 || N / c > 2"), 1);
  EXPECT_EQ(eval("c ? N / c : 5"), 5);
}

TEST(Expr, RuntimeFailuresAreValuesNotCrashes) {
  EXPECT_EQ(eval_error("N / c"), EvalError::division_by_zero);
  EXPECT_EQ(eval_error("N % c"), EvalError::division_by_zero);
  EXPECT_EQ(eval_error("ceil_div(N, c)"), EvalError::division_by_zero);
  EXPECT_EQ(eval_error("9223372036854775807 + 1"), EvalError::overflow);
  EXPECT_EQ(eval_error("N * N * N * N * N * N"), EvalError::overflow);
  EXPECT_EQ(eval_error("-(-9223372036854775807 - 1)"), EvalError::overflow);
  EXPECT_EQ(eval_error("(-9223372036854775807 - 1) / -1"), EvalError::overflow);
  EXPECT_EQ(eval_error("log2(c)"), EvalError::domain);
}

TEST(Expr, ReportsUsedSlots) {
  Expr e = parse("BM * N + BM");
  EXPECT_EQ(e.slots_used(), (std::vector<int>{3, 4}));
  EXPECT_FALSE(e.is_constant());
  EXPECT_TRUE(parse("2 * 3").is_constant());
}

TEST(Expr, ParseErrorsNameTheExpressionAndPosition) {
  EXPECT_EQ(parse_error("BM % % 2"),
            "constraints[3]: in expression \"BM % % 2\" at position 6: expected a value, found '%'");
  EXPECT_NE(parse_error("BM + XX").find("at position 6: unknown name 'XX'"), std::string::npos);
  EXPECT_NE(parse_error("(BM + 1").find("expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("BM $ 2").find("position 4: unexpected character '$'"), std::string::npos);
  EXPECT_NE(parse_error("min(BM)").find("min takes 2 arguments"), std::string::npos);
  EXPECT_NE(parse_error("floor(BM)").find("unknown function 'floor'"), std::string::npos);
  EXPECT_NE(parse_error("BM 2").find("unexpected '2'"), std::string::npos);
  EXPECT_NE(parse_error("99999999999999999999").find("number out of 64-bit range"), std::string::npos);
  EXPECT_NE(parse_error("12ab").find("malformed number '12ab'"), std::string::npos);
  EXPECT_NE(parse_error("").find("expected a value, found the end of the expression"), std::string::npos);
  EXPECT_NE(parse_error("a ? 1").find("expected ':'"), std::string::npos);
}

TEST(Expr, HostileInputIsBounded) {
  EXPECT_NE(parse_error(std::string(500, '(') + "1" + std::string(500, ')')).find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(300, '-') + "1").find("nested too deeply"), std::string::npos);
  EXPECT_NE(parse_error(std::string(5000, '1')).find("longer than"), std::string::npos);
}

}  // namespace
