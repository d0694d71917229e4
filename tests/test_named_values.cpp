// --size and --config values: "M=4096,N=4096".
#include <gtest/gtest.h>

#include "engine/common/named_values.hpp"

TEST(NamedValues, ParsesCommaOrSpaceSeparatedItems) {
  auto v = ktune::parse_named("M=4096, N=128 K=-1");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, (ktune::NamedValues{{"M", 4096}, {"N", 128}, {"K", -1}}));
  EXPECT_EQ(ktune::format_named(*v), "M=4096 N=128 K=-1");
  EXPECT_EQ(ktune::find_value(*v, "N"), 128);
  EXPECT_FALSE(ktune::find_value(*v, "Q"));
}

TEST(NamedValues, RejectsMalformedItemsNamingThem) {
  auto msg = [](const char* text) {
    auto v = ktune::parse_named(text);
    EXPECT_FALSE(v.ok()) << text;
    return v ? std::string() : v.error().message;
  };
  EXPECT_EQ(msg("M=4096,N"), "'N' is not NAME=VALUE");
  EXPECT_EQ(msg("M=4k"), "value of M must be an integer, got '4k'");
  EXPECT_EQ(msg("1M=3"), "'1M' is not a valid name in '1M=3'");
  EXPECT_EQ(msg("M=1,M=2"), "M is given twice");
  EXPECT_EQ(msg("M=99999999999999999999"), "value of M must be an integer, got '99999999999999999999'");
}
