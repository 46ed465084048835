# Every third-party dependency is found here, from Debian 12 packages installed
# by deploy/install-deps.sh. Nothing is downloaded at configure time.
find_package(absl REQUIRED CONFIG)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED CONFIG)
if(RQS_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(RQS_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED CONFIG)
endif()
