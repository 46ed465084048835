// Invariant checks for the fuzz targets.
//
// RQS_FUZZ_CHECK(cond) prints the failed condition and traps. A trap, unlike
// an exception or an error status, is what libFuzzer records as a crash: it
// saves the input and stops, so a broken invariant fails tests/fuzz/run.sh.
// It stays active in every build type, unlike assert().
#ifndef RQS_TESTS_FUZZ_FUZZ_CHECK_H_
#define RQS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>

#define RQS_FUZZ_CHECK(condition)                                                              \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #condition); \
      __builtin_trap();                                                                        \
    }                                                                                          \
  } while (false)

#endif  // RQS_TESTS_FUZZ_FUZZ_CHECK_H_
