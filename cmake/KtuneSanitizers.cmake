# Sanitizer builds (docs/sanitizers.md; tools/ci/sanitizers.sh runs them).
#
#   -DKTUNE_SANITIZE=OFF                 the default
#   -DKTUNE_SANITIZE=address             AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer
#   -DKTUNE_SANITIZE=ON                  the same (the option was a boolean once)
#   -DKTUNE_SANITIZE=thread              ThreadSanitizer
#   -DKTUNE_SANITIZE=undefined           UndefinedBehaviorSanitizer alone
#
# The flags apply to every target of the tree, so the worker and runner executables that tests
# spawn are sanitized too. Code that must behave differently under a sanitizer detects it at
# compile time (__SANITIZE_ADDRESS__ / __has_feature), not through a define from here, so an
# installed header or a consumer's own sanitizer build agrees with it.
set(KTUNE_SANITIZE OFF CACHE STRING "Sanitizer build: OFF, address (ASan+UBSan; ON means the same), thread, undefined")
set_property(CACHE KTUNE_SANITIZE PROPERTY TYPE STRING)
set_property(CACHE KTUNE_SANITIZE PROPERTY STRINGS OFF address thread undefined)

string(TOLOWER "${KTUNE_SANITIZE}" _ktune_sanitize)
if(_ktune_sanitize MATCHES "^(off|no|false|0|)$")
  set(KTUNE_SANITIZERS "")
elseif(_ktune_sanitize MATCHES "^(on|yes|true|1|address|address,undefined|address;undefined)$")
  set(KTUNE_SANITIZERS address,undefined)
elseif(_ktune_sanitize STREQUAL "thread")
  set(KTUNE_SANITIZERS thread)
elseif(_ktune_sanitize STREQUAL "undefined")
  set(KTUNE_SANITIZERS undefined)
else()
  message(FATAL_ERROR "KTUNE_SANITIZE=${KTUNE_SANITIZE}: expected OFF, address, thread or undefined "
                      "(ON means address: ASan+UBSan; TSan cannot be combined with ASan)")
endif()
unset(_ktune_sanitize)

if(KTUNE_SANITIZERS)
  message(STATUS "ktune: sanitizers ${KTUNE_SANITIZERS}")
  # Frame pointers keep the reports' stacks whole when optimised; -fno-sanitize-recover turns
  # every UBSan finding into an error that ends the program (and the test), not a line in a log.
  add_compile_options(-fsanitize=${KTUNE_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${KTUNE_SANITIZERS})
  # A program that links a sanitized libktune needs the sanitizer runtime itself (ASan insists on
  # coming first in the library list), so the exported ktune target carries the flag to consumers
  # (tests/package). Deferred to the end of the top directory, where the target exists.
  cmake_language(DEFER CALL target_link_options ktune INTERFACE -fsanitize=${KTUNE_SANITIZERS})
endif()
