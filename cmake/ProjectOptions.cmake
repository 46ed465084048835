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

  # ThreadSanitizer (-DRQS_SANITIZERS=thread; deploy/test.sh's tsan build).
  if("thread" IN_LIST _rqs_sanitizer_list)
    if("address" IN_LIST _rqs_sanitizer_list OR "leak" IN_LIST _rqs_sanitizer_list)
      message(FATAL_ERROR "RQS_SANITIZERS: thread cannot be combined with address or leak")
    endif()
    # Debian's protobuf, gRPC and Abseil are not built with TSan, and their
    # headers change class layouts when they see __SANITIZE_THREAD__ (e.g.
    # protobuf's MapFieldBase gains members): our code would disagree with
    # their libraries about those objects. Hide the macro; -fsanitize=thread
    # still instruments our code.
    target_compile_options(rqs_options INTERFACE -U__SANITIZE_THREAD__)
    # Debian's Abseil is not built with TSan, so TSan cannot see absl::Mutex
    # synchronise. Every executable gets the annotating wrappers of
    # tests/integration/tsan_abseil_annotations.cc (see there); libraries
    # do not, so each executable holds exactly one copy.
    target_sources(rqs_options INTERFACE
      "$<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:${PROJECT_SOURCE_DIR}/tests/integration/tsan_abseil_annotations.cc>")
    # The wrappers call into Abseil's synchronization library and dlsym.
    target_link_libraries(rqs_options INTERFACE absl::synchronization ${CMAKE_DL_LIBS})
  endif()
endif()
