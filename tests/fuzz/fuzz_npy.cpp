// Fuzz target: the .npy header reader (engine/common/data_file.hpp), which reads files users and
// other tools hand ktune. The input is a whole file.
//
// Checked beyond "no crash, no UB, no unbounded allocation": an accepted file's layout is
// consistent — the data after the header is exactly the shape's byte size, the count is the
// shape's product, at most 32 dimensions, a supported element type — and the verdict does not
// depend on bytes past the header other than their number.
#include <string>

#include "engine/common/data_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file = ktune::fuzz::as_text(data, size);
  auto layout = ktune::parse_npy_header(file, size);
  if (!layout) {
    ktune::fuzz::note(layout.error().message);
    KTUNE_FUZZ_CHECK(!layout.error().message.empty());
    return 0;
  }
  KTUNE_FUZZ_CHECK(layout->data_offset <= size);
  KTUNE_FUZZ_CHECK(layout->data_offset + layout->data_bytes == size);
  KTUNE_FUZZ_CHECK(layout->shape.size() <= ktune::kMaxNpyDimensions);
  std::uint64_t count = 1;
  for (auto d : layout->shape) count *= d;
  KTUNE_FUZZ_CHECK(count == layout->count);
  KTUNE_FUZZ_CHECK(layout->count * ktune::element_size(layout->type) == layout->data_bytes);
  KTUNE_FUZZ_CHECK(!layout->describe().empty());
  // Other data of the same size: the same layout.
  std::string other(file.substr(0, static_cast<std::size_t>(layout->data_offset)));
  other.append(static_cast<std::size_t>(layout->data_bytes), '\x5a');
  auto again = ktune::parse_npy_header(other, other.size());
  KTUNE_FUZZ_CHECK(again.ok() && again->count == layout->count && again->data_offset == layout->data_offset);
  return 0;
}
