#pragma once
// Input generation and output comparison on the host. Inputs are a pure function of (seed,
// element index), so every run, every runner and every machine sees the same data; outputs are
// compared element by element within |x - ref| <= atol + rtol * |ref|.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/common/result.hpp"
#include "engine/runner/launch_plan.hpp"

namespace ktune::runner {

// Generated data only (zeros, constant, iota, random, normal, integers); a file or a copy leaves `out` as it is.
void fill_buffer(std::span<std::byte> out, ElementType type, const BufferInit& init);
// Any init but a copy (which needs the other buffer: the caller copies): generated data, or a
// data file's contents, checked against `type`, out.size() and the digest taken at spec load.
Status fill_input(std::span<std::byte> out, ElementType type, const BufferInit& init);

struct Comparison {
  std::uint64_t compared = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t first_mismatch = 0;  // element index, when mismatches > 0
  double expected_at_first = 0, got_at_first = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;
  bool ok() const noexcept { return mismatches == 0; }
};

// NaN matches only NaN; an infinity only the same infinity. Sizes must be equal.
Comparison compare_buffers(ElementType type, std::span<const std::byte> expected, std::span<const std::byte> got,
                           double rtol, double atol);

// The element at `at` as a double (how outputs are compared).
double element_as_double(const std::byte* at, ElementType type) noexcept;

// IEEE binary16 / bfloat16 conversions (round to nearest even), exposed for tests.
std::uint16_t float_to_half(float value) noexcept;
float half_to_float(std::uint16_t bits) noexcept;
std::uint16_t float_to_bfloat16(float value) noexcept;
float bfloat16_to_float(std::uint16_t bits) noexcept;

}  // namespace ktune::runner
