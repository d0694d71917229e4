#pragma once
// Early-return helpers for Result/Status inside store/: expected failures travel up as values
// without a ladder of ifs. Store-private (store/ headers only); not part of the public API.

// Propagates the Error of a Status/Result expression from the enclosing function.
#define KTUNE_TRY(expr)                                            \
  do {                                                             \
    auto&& ktune_try_result_ = (expr);                             \
    if (!ktune_try_result_.ok()) return ktune_try_result_.error(); \
  } while (0)

// Moves the value of a Result expression into `target`, or propagates its Error.
#define KTUNE_ASSIGN_OR_RETURN(target, expr)        \
  do {                                              \
    auto ktune_value_ = (expr);                     \
    if (!ktune_value_) return ktune_value_.error(); \
    (target) = std::move(*ktune_value_);            \
  } while (0)
