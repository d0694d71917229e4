#pragma once
// A spec parsed from JSON text, for the tests of what the parser accepts and refuses: the spec
// (a test failure naming the message when it does not parse), or the parser's one-line message.
#include <gtest/gtest.h>

#include <string>

#include "engine/model/spec.hpp"

namespace ktune::testing {

inline KernelSpec parse_spec(const std::string& text) {
  auto spec = KernelSpec::from_json_text(text);
  EXPECT_TRUE(spec.ok()) << (spec ? "" : spec.error().message);
  return std::move(spec).value_or_throw();
}

// "(parsed)" when the text is a valid spec.
inline std::string spec_error(const std::string& text) {
  auto spec = KernelSpec::from_json_text(text);
  return spec ? std::string("(parsed)") : spec.error().message;
}

}  // namespace ktune::testing
