# rqs_options: an INTERFACE target that carries the project's warnings and
# sanitizer flags. Every library and executable in the project links it, so a
# flag is set in exactly one place.
add_library(rqs_options INTERFACE)
add_library(rqs::options ALIAS rqs_options)

target_compile_options(rqs_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(RQS_WARNINGS_AS_ERRORS)
  target_compile_options(rqs_options INTERFACE -Werror)
endif()

if(RQS_SANITIZERS)
  string(REPLACE "," ";" _rqs_sanitizer_list "${RQS_SANITIZERS}")
  foreach(_sanitizer IN LISTS _rqs_sanitizer_list)
    target_compile_options(rqs_options INTERFACE -fsanitize=${_sanitizer})
    target_link_options(rqs_options INTERFACE -fsanitize=${_sanitizer})
  endforeach()
  # Sanitizer reports must fail the test, not scroll past.
  target_compile_options(rqs_options INTERFACE -fno-omit-frame-pointer -fno-sanitize-recover=all)
endif()
