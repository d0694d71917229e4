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

// For JSON a human may read on a terminal (show --json, lookup --json): the JSON writer already
// escapes C0 controls; DEL and C1 controls, which JSON allows raw, become "\u007f".."\u009f".
// Only string contents can hold them, so the document parses to the same values.
std::string printable_json(std::string_view json_text);

}  // namespace ktune
