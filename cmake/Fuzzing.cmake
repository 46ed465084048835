# RQS_BUILD_FUZZERS: libFuzzer targets for the parsers of untrusted input
# (tests/fuzz/). libFuzzer ships with Debian's clang (libclang-rt-14-dev), so
# fuzzing needs no extra download and no out-of-tree engine; GCC has no
# equivalent, hence the clang requirement.
#
# In a fuzz build every project library is compiled with coverage feedback
# (fuzzer-no-link) and AddressSanitizer + UndefinedBehaviorSanitizer, so a
# memory error or UB anywhere on a parser's path is a crash the fuzzer reports
# and minimises. The flags travel on rqs_options, which every project library
# links; a normal build is untouched.
option(RQS_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

if(RQS_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RQS_BUILD_FUZZERS needs clang (libFuzzer), not "
                        "${CMAKE_CXX_COMPILER_ID}: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  target_compile_options(rqs_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(rqs_options INTERFACE -fsanitize=address,undefined)
endif()
