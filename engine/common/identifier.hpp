#pragma once
// What counts as a name everywhere a user writes one (parameters, sizes, arguments, the entry
// point, stored configurations): a C identifier, so every name can become a -D define or a
// template argument and every stored name reads back the same.
#include <string_view>

namespace ktune {

// [A-Za-z_][A-Za-z0-9_]*, ASCII only.
bool is_identifier(std::string_view text) noexcept;

}  // namespace ktune
