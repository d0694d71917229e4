#pragma once
// What the fuzz targets share: a property check that ends the run where a sanitizer would (so
// libFuzzer saves the input and the replay test fails), and the target's entry point declaration.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace ktune::fuzz {

[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", file, line, what);
  std::fflush(stderr);
  __builtin_trap();
}

// With KTUNE_FUZZ_VERBOSE set, targets print what the code under test answered (an error
// message, usually): for looking at one input by hand, silent while fuzzing.
inline void note(std::string_view what) {
  static const bool verbose = std::getenv("KTUNE_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%.*s\n", static_cast<int>(what.size()), what.data());
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ktune::fuzz

// A property of the code under test, not an input check: a violation is a bug to fix.
#define KTUNE_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::ktune::fuzz::property_failed(#condition, __FILE__, __LINE__))
