#include <gtest/gtest.h>
#include "engine/common/expr.hpp"
TEST(Expr, Placeholder) { SUCCEED(); }
