#pragma once
// What a user needs to see of a compile log (NVRTC's, possibly hundreds of lines of notes and
// warnings): the first line that mentions an error, else its first non-empty line.
#include <string>
#include <string_view>

namespace ktune::workers {

// Empty for an empty log.
std::string compile_log_headline(std::string_view log);

}  // namespace ktune::workers
