// Input generation (deterministic, typed) and output comparison (rtol/atol, NaN, types).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/runner/host_data.hpp"

using namespace ktune;
using namespace ktune::runner;

namespace {
template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& v) {
  std::vector<std::byte> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}
template <class T>
std::vector<T> values_of(const std::vector<std::byte>& b) {
  std::vector<T> out(b.size() / sizeof(T));
  std::memcpy(out.data(), b.data(), b.size());
  return out;
}
}  // namespace

TEST(HostData, RandomFillIsDeterministicAndInRange) {
  BufferInit init;
  init.kind = BufferInit::Kind::random;
  init.low = -2;
  init.high = 3;
  init.seed = 42;
  std::vector<std::byte> a(4 * 100000), b(4 * 100000);
  fill_buffer(a, ElementType::f32, init);
  fill_buffer(b, ElementType::f32, init);
  EXPECT_EQ(a, b);
  auto v = values_of<float>(a);
  double sum = 0;
  for (float x : v) {
    ASSERT_GE(x, -2.0f);
    ASSERT_LT(x, 3.0f);
    sum += x;
  }
  EXPECT_NEAR(sum / static_cast<double>(v.size()), 0.5, 0.02);  // uniform mean
  init.seed = 43;
  fill_buffer(b, ElementType::f32, init);
  EXPECT_NE(a, b);
}

TEST(HostData, ConstantIotaAndIntegerTypes) {
  std::vector<std::byte> buf(4 * 5);
  BufferInit iota;
  iota.kind = BufferInit::Kind::iota;
  fill_buffer(buf, ElementType::i32, iota);
  EXPECT_EQ(values_of<std::int32_t>(buf), (std::vector<std::int32_t>{0, 1, 2, 3, 4}));
  BufferInit constant;
  constant.kind = BufferInit::Kind::constant;
  constant.value = 1.5;
  fill_buffer(buf, ElementType::f32, constant);
  EXPECT_EQ(values_of<float>(buf), (std::vector<float>(5, 1.5f)));
  std::vector<std::byte> halves(2 * 3);
  fill_buffer(halves, ElementType::f16, constant);
  EXPECT_EQ(values_of<std::uint16_t>(halves), (std::vector<std::uint16_t>(3, 0x3e00)));  // 1.5 in binary16
}

TEST(HostData, HalfAndBfloat16Conversions) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);  // overflow to infinity
  EXPECT_EQ(float_to_half(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie rounds to even
  for (float x : {0.0f, 1.0f, -3.25f, 0.1f, 1000.5f, 6.1e-5f})
    EXPECT_NEAR(half_to_float(float_to_half(x)), x, std::fabs(x) * 1e-3 + 1e-7) << x;
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16_to_float(float_to_bfloat16(3.140625f)), 3.140625f);
}

TEST(HostData, ComparisonWithinTolerance) {
  auto ref = bytes_of<float>({1.0f, 100.0f, -5.0f, 0.0f});
  auto close = bytes_of<float>({1.00001f, 100.001f, -5.00002f, 1e-7f});
  EXPECT_TRUE(compare_buffers(ElementType::f32, ref, close, 1e-4, 1e-6).ok());
  auto off = bytes_of<float>({1.0f, 101.0f, -5.0f, 0.0f});
  Comparison c = compare_buffers(ElementType::f32, ref, off, 1e-4, 1e-6);
  EXPECT_EQ(c.mismatches, 1u);
  EXPECT_EQ(c.first_mismatch, 1u);
  EXPECT_EQ(c.got_at_first, 101.0);
  EXPECT_NEAR(c.max_abs_error, 1.0, 1e-9);
}

TEST(HostData, NaNAndInfinityMatchOnlyThemselves) {
  auto ref = bytes_of<float>({NAN, INFINITY, 1.0f});
  EXPECT_TRUE(compare_buffers(ElementType::f32, ref, bytes_of<float>({NAN, INFINITY, 1.0f}), 0, 0).ok());
  EXPECT_EQ(compare_buffers(ElementType::f32, ref, bytes_of<float>({1.0f, INFINITY, NAN}), 1, 1).mismatches, 2u);
  EXPECT_EQ(compare_buffers(ElementType::f32, ref, bytes_of<float>({NAN, -INFINITY, 1.0f}), 1, 1).mismatches, 1u);
}

TEST(HostData, IntegersCompareExactlyWithZeroTolerance) {
  auto ref = bytes_of<std::int64_t>({1, 2, 3});
  EXPECT_TRUE(compare_buffers(ElementType::i64, ref, bytes_of<std::int64_t>({1, 2, 3}), 0, 0).ok());
  EXPECT_FALSE(compare_buffers(ElementType::i64, ref, bytes_of<std::int64_t>({1, 2, 4}), 0, 0).ok());
  EXPECT_FALSE(compare_buffers(ElementType::i64, ref, bytes_of<std::int64_t>({1, 2}), 0, 0).ok());  // sizes differ
}
