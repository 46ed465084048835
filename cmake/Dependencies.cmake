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
# libpqxx 6.4 (Debian 12) ships a pkg-config file but no CMake package.
# IMPORTED_TARGET marks its include directories SYSTEM, so its headers are
# exempt from the project's -Werror warnings.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# libcrypto for SHA-256 of API tokens; libssl-dev comes with libpq-dev.
find_package(OpenSSL REQUIRED)
# protobuf 3.21 and gRPC 1.51 for the server API (proto/, server/): protoc,
# grpc_cpp_plugin, grpc++ and grpc++_reflection.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
