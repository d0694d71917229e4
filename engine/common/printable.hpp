#pragma once
// Text from a store, a spec or an imported table is data, not terminal commands: before a human
// output prints it, control characters are shown as escapes, so a kernel named
// "\x1b]0;pwned\x07" cannot retitle, recolour or rewrite the user's terminal (issue 14).
#include <string>
#include <string_view>

namespace ktune {

// C0 controls (including tab, newline and ESC) and DEL become "\xHH"; C1 controls (U+0080..U+009F,
// which some terminals obey) become "\u0080".."\u009f". Everything else is kept as it is.
std::string printable(std::string_view text);

}  // namespace ktune
